"""The cookie principal for pages that run their own short transactions (checkout, paying, the counter).

Like orders.dependencies.fresh_principal for the API: the caller is resolved in a read transaction that
ends before the route runs, so the route's own transactions (idempotency claim, then the work) never
wait behind a request-wide session on SQLite's write lock.
"""

from typing import Annotated

from fastapi import Depends, Request

from daodian.accounts import service as accounts
from daodian.accounts.authz import ANONYMOUS, Principal
from daodian.accounts.dependencies import SESSION_COOKIE
from daodian.kit.db import unit_of_work
from daodian.kit.http import DbSlot


def fresh_page_principal(request: Request, _slot: Annotated[None, DbSlot]) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return ANONYMOUS
    with unit_of_work(request.app.state.session_factory, read_only=True) as session:
        return accounts.principal_for_token(session, token[:128], kind="cookie") or ANONYMOUS


OwnPagePrincipal = Annotated[Principal, Depends(fresh_page_principal)]
