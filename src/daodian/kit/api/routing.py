"""Routes in one flat list, and a request finding its route without trying them all.

FastAPI 0.165 keeps an included router as a nested branch that it resolves per request: matching
`GET /api/v1/me` walked the flash-sale branch, then the API branch, matching each of its ~250 routes
through the branch's context, more than once; a request paid about a millisecond before its own work,
and a 404 the most. Two changes, neither altering which route answers:

- `include_flat` copies a router's routes into another as plain routes, as `include_router` did before
  branches existed: the same paths, dependencies, responses, tags and settings (the OpenAPI document is
  unchanged), now one list in the order they were included. A WebSocket route is copied as one.
- `RouteIndex` sits where the app's router starts (its `middleware_stack`). Routes are grouped by the
  literal path segments they begin with (up to three: `/api/v1/stores/{store_id}` under
  `api/v1/stores`); a request tries, in the list's order, only the routes whose group is a prefix of
  its path, plus those that begin with a parameter. A route outside them cannot match the path, so the
  first full match among them is the first full match of the whole list: the same route as before.
  Anything else (no full match: 405, trailing-slash redirects, 404; a root path; telemetry, which
  records the route as the router selects it) goes to the framework's router unchanged.
"""

from itertools import takewhile

from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Receive, Scope, Send

DEPTH = 3  # literal leading segments a route is grouped by at most


def include_flat(target: APIRouter, router: APIRouter) -> None:
    """Add `router`'s routes to `target` as `target.include_router(router)` would serve and document them.

    A route made by `router`'s decorators already carries `router`'s prefix, tags, dependencies and
    responses; `add_api_route` adds `target`'s, the parent's first, as an inclusion does. A plain APIRoute
    becomes `target`'s route class (the API's router: kit.api.one_hop.ApiRoute; the pages': OneHopRoute); a
    route of another class keeps it."""
    for route in router.routes:
        if isinstance(route, APIWebSocketRoute):  # a socket: its path, its name and its dependencies
            target.add_api_websocket_route(route.path, route.endpoint, name=route.name,
                                           dependencies=route.dependencies)
            continue
        if not isinstance(route, APIRoute):
            raise TypeError(f"include_flat copies API routes only, not {route!r}: include it with include_router")
        target.add_api_route(
            route.path, route.endpoint, response_model=route.response_model, status_code=route.status_code,
            tags=route.tags, dependencies=route.dependencies, summary=route.summary,
            description=route.description, response_description=route.response_description,
            responses=route.responses, deprecated=route.deprecated, methods=route.methods,
            operation_id=route.operation_id, response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema, response_class=route.response_class, name=route.name,
            route_class_override=None if type(route) is APIRoute else type(route), callbacks=route.callbacks, openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type, max_body_size=route.max_body_size)


def _group(route: BaseRoute) -> tuple[str, ...]:
    """The literal segments a route's path begins with (at most DEPTH); () if it begins with a parameter or
    is not a plain route (a mount, a host), which every request then tries."""
    if not isinstance(route, Route):
        return ()
    return tuple(takewhile(lambda segment: "{" not in segment, route.path.split("/")[1:]))[:DEPTH]


class RouteIndex:
    """The app router's entry point: a request tries only the routes that could match its path."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.routes_seen: list[BaseRoute] | None = None
        self.table: dict[tuple[str, ...], tuple[BaseRoute, ...]] = {}
        self.anywhere: tuple[BaseRoute, ...] = ()

    def _build(self) -> None:
        """Group the router's routes (again, if routes were added since: the list is compared by content)."""
        routes = list(self.router.routes)
        groups = [_group(route) for route in routes]
        self.anywhere = tuple(route for route, group in zip(routes, groups) if not group)
        # For every group G: the routes whose group is a prefix of G (G's own, its parents') and those tried
        # everywhere, in the list's order. A path looks up its longest leading segments that are a group.
        self.table = {group: tuple(route for route, own in zip(routes, groups) if group[:len(own)] == own)
                      for group in set(groups) if group}
        self.routes_seen = routes

    def candidates(self, path: str) -> tuple[BaseRoute, ...]:
        if self.routes_seen != self.router.routes:
            self._build()
        segments = tuple(path.split("/", DEPTH + 1)[1:DEPTH + 1])
        for depth in range(len(segments), 0, -1):
            found = self.table.get(segments[:depth])
            if found is not None:
                return found
        return self.anywhere

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope.get("root_path") or scope.get("fastapi.telemetry") is not None
                or self.router.form_limits):  # limits a router applies to the scope: its own way
            await self.router.app(scope, receive, send)
            return
        for route in self.candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self.router)
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.router.app(scope, receive, send)  # the framework's own answer: 405, a redirect, 404


def serves(route: BaseRoute, scope: Scope) -> bool | None:
    """Whether `route` answers this request (path and method) with its own handler: None if it does not
    match, False if it matches but its path parameters fail their types (`/tiers/{tier_id}` matches
    `/tiers/summary`, then answers 422), True otherwise. What a 405's `Allow` header is made of."""
    match, child_scope = route.matches(scope)
    if match is not Match.FULL:
        return None
    if not isinstance(route, APIRoute):
        return True
    values = child_scope.get("path_params", {})
    return not any(field.validate(values.get(field.alias), {}, loc=("path", field.alias))[1]
                   for field in route.dependant.path_params)


def allowed_methods(routes: list[BaseRoute], scope: Scope, methods: tuple[str, ...]) -> list[str]:
    """The methods a path accepts: those whose first matching route (the one that would answer) serves it."""
    allowed = []
    for method in methods:
        method_scope = {**scope, "method": method}
        first = next((answer for answer in (serves(route, method_scope) for route in routes) if answer is not None),
                     None)
        if first:
            allowed.append(method)
    return allowed


def index_routes(router: APIRouter) -> None:
    """Route the app's requests through a RouteIndex of its router."""
    router.middleware_stack = RouteIndex(router)
