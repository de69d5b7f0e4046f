"""Who is asking: bearer tokens for the API, the session cookie for pages.

Async dependencies: a caller known to this process (accounts.tokens.lookup) costs no thread hop and
no read; only an unknown token is read, in a worker thread. They pass the database gate first
(kit.api.http.DbSlot), as they did when they read through the request's session: a request reads nothing
before it has a slot.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from daodian.accounts.authz import ANONYMOUS, Principal, require_login
from daodian.accounts.tokens.batched import lookups_of
from daodian.accounts.tokens.foreign import resolver_for
from daodian.accounts.tokens.lookup import principal_for, remembered
from daodian.kit.api import scopes
from daodian.kit.api.http import DbSlot
from daodian.kit.errors import NotAuthenticated

SESSION_COOKIE = "daodian_session"

bearer_scheme = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/login.")


async def api_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _slot: Annotated[None, DbSlot],
) -> Principal:
    if credentials is None or not credentials.credentials:
        return ANONYMOUS
    principal = await principal_for(request.app.state.session_factory, credentials.credentials[:128], "bearer")
    if principal is None:
        return ANONYMOUS
    if principal.app_id is not None:
        return await admit_app(request, principal)
    return principal


async def admit_app(request: Request, principal: Principal, *, consumer_only: bool = False) -> Principal:
    """The principal an app's token stands for on this route (kit.api.scopes: its scope, its rate limit), or
    403/429. An app installed at a merchant acts for the merchant only: never on routes about the caller's
    own account ("self", "authenticated"), nor where the caller is known by account id alone (`consumer_only`:
    CallerId routes). On a public route a token without the scope counts for nothing: the app sees what anyone
    may."""
    extra = getattr(request.scope.get("route"), "openapi_extra", None) or {}
    try:
        if principal.installation_id is not None and (consumer_only or extra.get("x-access") in ("self",
                                                                                                 "authenticated")):
            raise scopes.AppNotAllowed("An app installed at a merchant acts for the merchant only, not as a person.")
        grant = (f"installation:{principal.installation_id}" if principal.installation_id is not None
                 else f"app:{principal.app_id}:consumer:{principal.user_id}")
        await scopes.admit_app(request, principal.scopes, grant)
    except (scopes.AppNotAllowed, scopes.InsufficientScope):
        if extra.get("x-access") == "public":
            return ANONYMOUS
        raise
    return principal


async def page_principal(request: Request, _slot: Annotated[None, DbSlot]) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return ANONYMOUS
    return await principal_for(request.app.state.session_factory, token[:128], "cookie") or ANONYMOUS


async def _logged_in(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _slot: Annotated[None, DbSlot],
) -> Principal:
    # api_principal's work, not a dependency on it: one dependency less to resolve on most routes.
    principal = await api_principal(request, credentials, _slot)
    require_login(principal)
    return principal


async def api_user_id(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> int:
    """The caller's account id, for async routes that need to know only who is asking (a coupon claim): from
    this process's memory when it knows the token, else looked up with the other callers of the moment
    (accounts.tokens.batched); 401 without a live token."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated()
    token = credentials.credentials[:128]
    if resolver_for(token) is not None:  # an app's token (daodian.apps): its principal, scopes and limits
        principal = await principal_for(request.app.state.session_factory, token, "bearer")
        if principal is None:
            raise NotAuthenticated()
        await admit_app(request, principal, consumer_only=True)
        return principal.user_id
    known = await remembered(request.app.state.session_factory, token, "bearer")
    user_id = known.user_id if known is not None else await lookups_of(request.app.state).user_id(token)
    if user_id is None:
        raise NotAuthenticated()
    return user_id


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
LoggedIn = Annotated[Principal, Depends(_logged_in)]
PagePrincipal = Annotated[Principal, Depends(page_principal)]
CallerId = Annotated[int, Depends(api_user_id)]
