"""Who is asking: bearer tokens for the API, the session cookie for pages."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from daodian.accounts import service
from daodian.accounts.authz import ANONYMOUS, Principal, require_login
from daodian.accounts.caller_lookups import lookups_of
from daodian.kit.api.http import DbSession
from daodian.kit.errors import NotAuthenticated

SESSION_COOKIE = "daodian_session"

bearer_scheme = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/login.")


def api_principal(
    session: DbSession, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> Principal:
    if credentials is None or not credentials.credentials:
        return ANONYMOUS
    principal = service.principal_for_token(session, credentials.credentials[:128], kind="bearer")
    return principal or ANONYMOUS


def page_principal(session: DbSession, request: Request) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return ANONYMOUS
    return service.principal_for_token(session, token[:128], kind="cookie") or ANONYMOUS


def _logged_in(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
    require_login(principal)
    return principal


async def api_user_id(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> int:
    """The caller's account id, for async routes that need to know only who is asking (a coupon claim):
    looked up with the other callers of the moment (accounts.caller_lookups); 401 without a live token."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated()
    user_id = await lookups_of(request.app.state).user_id(credentials.credentials[:128])
    if user_id is None:
        raise NotAuthenticated()
    return user_id


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
LoggedIn = Annotated[Principal, Depends(_logged_in)]
PagePrincipal = Annotated[Principal, Depends(page_principal)]
CallerId = Annotated[int, Depends(api_user_id)]
