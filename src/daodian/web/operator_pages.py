"""The operator's console (operators land here): merchants in every state with the buttons to approve,
suspend and reinstate them (merchants.pages), the category trees (web.operator_categories) and the store
promotions (web.operator_promotions), each mounted by web.pages; beside the pages other domains keep for operators (pending merchants,
product -> service links, platform analytics), all in one menu (templates/admin/_nav.html). Pages that read
several domains at once, so they live in web/."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from daodian.accounts.authz import require_operator
from daodian.accounts.dependencies import PagePrincipal
from daodian.kit.api.http import DbSession
from daodian.kit.api.pagination import Paging
from daodian.kit.html.forms import login_redirect
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants
from daodian.merchants.models import MerchantStatus, Store

router = APIRouter()

STATUSES = tuple(s.value for s in MerchantStatus)


@router.get("/admin/merchants", response_class=HTMLResponse)
def all_merchants(request: Request, session: DbSession, principal: PagePrincipal, paging: Paging,
                  status: Annotated[str, Query(pattern="^(pending|active|suspended|closed)$")] = "active",
                  done: Annotated[str | None, Query(pattern="^(approved|suspended|reinstated)$")] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    rows, cursor = merchants.list_merchants(session, principal, paging, MerchantStatus(status))
    counts = dict(session.execute(select(Store.merchant_id, func.count(Store.id))
                                  .where(Store.merchant_id.in_([m.id for m in rows])).group_by(Store.merchant_id)).all())
    return render(request, "admin/all_merchants.html", {
        "principal": principal, "merchants": rows, "next_cursor": cursor, "status": status, "statuses": STATUSES,
        "store_counts": counts, "done": done})

