"""Dependencies for routes that run their own transactions (idempotent and counter routes).

Such a route must not hold the request-wide session open: on SQLite a POST's session takes the
write lock at its first statement, and the route's own short transactions (the idempotency claim,
then the work) would wait on it. So the caller is resolved apart from any session: from this process's
memory, or in a short read of its own (accounts.tokens.lookup) that ends before the route runs.
The dependencies are async: none costs a thread hop unless it reads.

They still pass the one database gate (kit.api.http.DbSlot) like every DbSession route, held until the route
returns: these routes open their short transactions one after another, never two at once.
"""

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import ANONYMOUS, Principal, require_login
from daodian.accounts.dependencies import SESSION_COOKIE, admit_app, bearer_scheme
from daodian.accounts.tokens.lookup import principal_for
from daodian.kit.api.http import DbSlot
from daodian.kit.settings import Settings


async def fresh_principal(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                                   Depends(bearer_scheme)],
                          _slot: Annotated[None, DbSlot]) -> Principal:
    if credentials is None or not credentials.credentials:
        return ANONYMOUS
    principal = await principal_for(request.app.state.session_factory, credentials.credentials[:128], "bearer")
    if principal is None:
        return ANONYMOUS
    if principal.app_id is not None:
        return await admit_app(request, principal)
    return principal


async def logged_in(principal: Annotated[Principal, Depends(fresh_principal)]) -> Principal:
    """401 before anything else: before a missing idempotency key, before the body is validated."""
    require_login(principal)
    return principal


async def session_factory(request: Request, _slot: Annotated[None, DbSlot]) -> sessionmaker[Session]:
    return request.app.state.session_factory


async def app_settings(request: Request) -> Settings:
    return request.app.state.settings


OwnPrincipal = Annotated[Principal, Depends(fresh_principal)]
OwnLoggedIn = Annotated[Principal, Depends(logged_in)]
Factory = Annotated[sessionmaker[Session], Depends(session_factory)]
AppSettings = Annotated[Settings, Depends(app_settings)]
TerminalId = Annotated[str | None, Header(alias="X-Terminal-Id", min_length=1, max_length=64,
                                          pattern=r"^[A-Za-z0-9._:\-]+$",
                                          description="The counter device, for per-terminal throttling.")]


def scope_of(principal: Principal) -> str:
    """Whose idempotency keys these are."""
    return f"user:{principal.user_id}"


async def fresh_page_principal(request: Request, _slot: Annotated[None, DbSlot]) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return ANONYMOUS
    return await principal_for(request.app.state.session_factory, token[:128], "cookie") or ANONYMOUS


OwnPagePrincipal = Annotated[Principal, Depends(fresh_page_principal)]
