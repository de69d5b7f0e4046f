"""Which OAuth 2.0 scope an app's token needs for each JSON route, declared per router.

Apps (daodian.apps) call the API with access tokens of their own. A router says, once, the scope its reading
routes need and the one its writing routes need (`declare`); a route may say otherwise (`route_scope`).
A router that declares nothing, or declares None, is closed to apps: account administration, operators'
routes. The declarations live in the routes' OpenAPI extension `x-app-scope` (written by `annotate` when
the API router is built), which is where the principal lookup (accounts.dependencies) reads them for an
app's token and where the OpenAPI document shows them as an OAuth2 security requirement.

People's own tokens (logins) are not scoped: nothing here runs for them.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from daodian.kit.errors import DomainError, Forbidden
from daodian.kit.html.forms import N_

# The scopes, by component. An installed app gets them for its merchant; an app a consumer authorised
# gets them for that consumer's own data. Written `<component>:<read|write>`; docs/open-platform.md lists them.
# The descriptions are message ids: pages show them translated.
SCOPES: dict[str, str] = {
    "catalog:read": N_("Merchants, stores, products, service items and their photos"),
    "catalog:write": N_("Edit merchants, stores, products, service items and photos"),
    "map:read": N_("Nearby stores, product -> service links, search, categories"),
    "member:read": N_("Points, tiers, follows, consents and the feed"),
    "member:write": N_("Adjust points and tiers, follow and unfollow"),
    "order:read": N_("Orders, vouchers, bookings, deliveries, consumption records and reviews"),
    "order:write": N_("Place and change orders, bookings, consumption records and reviews"),
    "payment:read": N_("Payments and refunds"),
    "payment:write": N_("Start payments and ask for refunds"),
    "marketing:read": N_("Coupons, campaigns, group buys and pre-sales"),
    "marketing:write": N_("Create coupons, campaigns, group buys and pre-sales; claim coupons, join, vote"),
    "analytics:read": N_("Dashboards and segments"),
}

SCOPE_EXTENSION = "x-app-scope"  # a route's OpenAPI extension: its scope, or false when closed to apps
SECURITY_SCHEME = "OAuth2"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLOSED = None  # the declaration of a router or route apps may never use
ANY_APP = "*"  # a route any app's token may use whatever its scopes (health checks)
# Whom routes declare (kit.api.http.access) that no app ever acts as, whatever its router says: operators,
# couriers, and the merchant's owner managing its staff or deleting it.
CLOSED_ACCESS = frozenset({"operator", "courier", "merchant:staff.manage", "merchant:merchant.delete"})

_UNDECLARED = object()
_DECLARED = "daodian_app_scopes"  # the router attribute `declare` sets


@dataclass(frozen=True)
class RouterScopes:
    read: str | None
    write: str | None


class InsufficientScope(DomainError):
    status, code, message = 403, "insufficient_scope", "The app's token does not carry the scope this needs."


class AppNotAllowed(Forbidden):
    code, message = "app_not_allowed", "Apps may not use this route; only people may."


def declare(router: APIRouter, read: str | None, write: str | None = CLOSED) -> APIRouter:
    """A router's default scopes: `read` for its GET routes, `write` for the others (None: closed to apps)."""
    for scope in (read, write):
        if scope is not None and scope != ANY_APP and scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; add it to kit.api.scopes.SCOPES")
    setattr(router, _DECLARED, RouterScopes(read, write))
    return router


def route_scope(scope: str | None, extra: dict | None = None) -> dict:
    """A route's own scope, overriding its router's, merged into its `openapi_extra`."""
    if scope is not None and scope != ANY_APP and scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    return {**(extra or {}), SCOPE_EXTENSION: False if scope is None else scope}


def annotate(router: APIRouter) -> None:
    """Write each route's scope into its OpenAPI extension and security requirement (before the router's
    routes are copied into the API's): the route's own, else its router's default by method. A route of a
    router that declares nothing gets no extension: the authorization matrix test fails for it."""
    default = getattr(router, _DECLARED, None)
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        extra = dict(route.openapi_extra or {})  # a copy: decorators may share one dict between routes
        if SCOPE_EXTENSION in extra:
            scope = extra[SCOPE_EXTENSION]
        elif default is not None and extra.get("x-access") in CLOSED_ACCESS:
            scope = CLOSED
        elif default is not None:
            scope = default.read if set(route.methods) <= READ_METHODS else default.write
        else:
            continue
        extra[SCOPE_EXTENSION] = False if scope in (None, False) else scope  # None would vanish from OpenAPI
        if scope not in (None, False, ANY_APP):
            extra["security"] = [*extra.get("security", []), {SECURITY_SCHEME: [scope]}]
        route.openapi_extra = extra


def required_scope(request: Request) -> str | None | object:
    """The scope the request's route needs from an app (False: closed to apps; _UNDECLARED: not said)."""
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    return extra.get(SCOPE_EXTENSION, _UNDECLARED)


# What else an app's request must pass once its scope is checked (the rate limit of its installation):
# registered by daodian.apps at bootstrap; given the request and the token's grant key.
AppGate = Callable[[Request, str], Awaitable[None]]
_gates: list[AppGate] = []


def add_gate(gate: AppGate) -> None:
    if gate not in _gates:
        _gates.append(gate)


async def admit_app(request: Request, granted: frozenset[str], grant_key: str) -> None:
    """Let an app's token through to this route or raise: closed to apps -> 403 app_not_allowed; scope
    missing -> 403 insufficient_scope (its details name the scope); then the registered gates."""
    scope = required_scope(request)
    if not scope or scope is _UNDECLARED:
        raise AppNotAllowed()
    if scope != ANY_APP and scope not in granted:
        raise InsufficientScope(f"This needs the scope '{scope}'.", details={"required_scope": scope})
    for gate in _gates:
        await gate(request, grant_key)


def document(app: FastAPI, token_url: str, authorization_url: str) -> None:
    """Add the OAuth2 security scheme that the routes' requirements name to the app's OpenAPI document."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[SECURITY_SCHEME] = {
            "type": "oauth2",
            "description": "Apps' access tokens (docs/open-platform.md). Client credentials: an installed app "
                           "acting for its merchant; authorization code with PKCE: for one consumer.",
            "flows": {
                "clientCredentials": {"tokenUrl": token_url, "scopes": SCOPES},
                "authorizationCode": {"authorizationUrl": authorization_url, "tokenUrl": token_url,
                                      "scopes": SCOPES},
            },
        }
        return schema

    app.openapi = openapi
