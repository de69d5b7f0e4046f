"""Coupon pages: the coupon centre and "my coupons" (the merchant's marketing console is campaigns.pages).

Claims go through `coupons.claim` (its own short transactions, like the API), so the claim route takes the
fresh page principal and the factory rather than a request-wide session.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from daodian.accounts.authz import require_login
from daodian.accounts.dependencies import PagePrincipal
from daodian.accounts.own_transaction_deps import Factory, OwnPagePrincipal
from daodian.coupons import claims
from daodian.coupons import service as coupons
from daodian.coupons.models import Coupon, CouponStatus, CouponTemplate
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import Paging, fetch_page
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, login_redirect, see_other
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants

router = APIRouter()

TABS = {"available": (CouponStatus.AVAILABLE,), "used": (CouponStatus.USED,),
        "expired": (CouponStatus.EXPIRED, CouponStatus.VOIDED)}


# --- consumers --------------------------------------------------------------------------------


@router.get("/coupons", response_class=HTMLResponse)
def coupon_centre(request: Request, principal: OwnPagePrincipal, factory: Factory, paging: Paging,
                  problem: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    with unit_of_work(factory, read_only=True) as session:
        rows, cursor = fetch_page(session, coupons.claimable_templates_query(None, utcnow()), CouponTemplate.id,
                                  paging)
        names = merchants.merchants_by_ids(session, {t.merchant_id for t in rows if t.merchant_id})
        templates = [coupons.template_read(t) for t in rows]
    return render(request, "marketing/centre.html", {
        "principal": principal, "templates": templates, "merchant_names": {i: m.name for i, m in names.items()},
        "next_cursor": cursor, "problem": problem})


@router.post("/coupons/{template_id}/claim", response_class=HTMLResponse)
def claim(template_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
          form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_login(principal)
    try:
        claims.claim(factory, principal.user_id, template_id, claims.memo_of(request.app.state))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(f"/coupons?problem={exc.code}")
    return see_other("/me/coupons?claimed=1")


@router.get("/me/coupons", response_class=HTMLResponse)
def my_coupons(request: Request, session: DbSession, principal: PagePrincipal,
               tab: Annotated[str, Query(max_length=16)] = "available",
               claimed: Annotated[int | None, Query(ge=0, le=1)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    tab = tab if tab in TABS else "available"
    rows = list(session.scalars(select(Coupon).where(Coupon.consumer_id == principal.user_id,
                                                     Coupon.status.in_(TABS[tab])).order_by(Coupon.valid_until)
                                .limit(200)))
    return render(request, "marketing/mine.html", {
        "principal": principal, "tab": tab, "tabs": list(TABS), "coupons": coupons.coupon_reads(session, rows),
        "claimed": bool(claimed)})


# --- the merchant's marketing console ---------------------------------------------------------


