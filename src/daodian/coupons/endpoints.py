"""Coupon routes: templates (merchant console, platform), the coupon centre, claims, my coupons, the
checkout quote and the counter."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import CallerId, LoggedIn
from daodian.coupons import redemption
from daodian.coupons import service as coupons
from daodian.coupons.claim_batches import batches_of
from daodian.coupons.models import Coupon, CouponStatus, CouponTemplate
from daodian.coupons.schemas import (
    CounterRedeemIn,
    CounterRedeemRead,
    CouponRead,
    QuoteIn,
    QuoteRead,
    TemplateCreate,
    TemplateRead,
)
from daodian.kit.api.http import DbSession, ObjectId, QueryId, access
from daodian.kit.api.pagination import Page, Paging, fetch_page
from daodian.kit.api.scopes import CLOSED, declare
from daodian.kit.clock import utcnow
from daodian.merchants import service as merchants

router = APIRouter(tags=["coupons"])
declare(router, "marketing:read", "marketing:write")  # the scopes apps' tokens need here (kit.api.scopes)
# Claims on their own router, mounted first of the API (api.ROUTERS).
claims_router = APIRouter(tags=["coupons"])
declare(claims_router, CLOSED, "marketing:write")  # the scopes apps' tokens need here (kit.api.scopes)


@router.post("/merchants/{merchant_id}/coupon-templates", status_code=status.HTTP_201_CREATED,
             response_model=TemplateRead, openapi_extra=access("merchant:catalog.manage"))
def create_merchant_template(merchant_id: ObjectId, body: TemplateCreate, session: DbSession,
                             principal: LoggedIn) -> TemplateRead:
    """A merchant's coupon template. Errors: `invalid_coupon_template` (422: a scope naming stores or items
    not of this merchant, or unknown categories), `validation_error` (422)."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    return coupons.template_read(coupons.create_template(session, principal, merchant_id, body))


@router.get("/merchants/{merchant_id}/coupon-templates", response_model=Page[TemplateRead],
            openapi_extra=access("merchant:console.view"))
def merchant_templates(merchant_id: ObjectId, session: DbSession, principal: LoggedIn,
                       paging: Paging) -> Page[TemplateRead]:
    """All of a merchant's templates with their remaining stock, for its staff."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    rows, cursor = fetch_page(session, select(CouponTemplate).where(CouponTemplate.merchant_id == merchant_id),
                              CouponTemplate.id, paging)
    return Page(items=[coupons.template_read(t) for t in rows], next_cursor=cursor)


@router.post("/coupon-templates", status_code=status.HTTP_201_CREATED, response_model=TemplateRead,
             openapi_extra=access("operator"))
def create_platform_template(body: TemplateCreate, session: DbSession, principal: LoggedIn) -> TemplateRead:
    """A platform coupon (operators): scope `platform` or `categories`, good at every merchant."""
    return coupons.template_read(coupons.create_template(session, principal, None, body))


@router.get("/coupon-templates", response_model=Page[TemplateRead], openapi_extra=access("public"))
def coupon_centre(session: DbSession, paging: Paging, merchant_id: QueryId = None) -> Page[TemplateRead]:
    """The coupon centre: public templates open for claims with stock left, optionally of one merchant."""
    rows, cursor = fetch_page(session, coupons.claimable_templates_query(merchant_id, utcnow()), CouponTemplate.id,
                              paging)
    return Page(items=[coupons.template_read(t) for t in rows], next_cursor=cursor)


@claims_router.post("/coupons/{template_id}/claims", status_code=status.HTTP_201_CREATED, response_model=CouponRead,
             openapi_extra=access("authenticated"))
async def claim_coupon(template_id: ObjectId, consumer_id: CallerId, request: Request) -> CouponRead:
    """Claim one coupon of a template. Exact under any load: one conditional UPDATE of the stock and one
    INSERT, in one transaction. Errors: `coupon_template_not_found` (404), `coupon_sold_out` (409),
    `coupon_limit_reached` (409: you hold the per-person limit), `coupon_not_claimable` (409: outside the
    claim window)."""
    # The fast path (coupons.claim_fast_path) answers most claims before they get here; both write in
    # batches, whose writer takes SQLite's write turn (this route holds no database gate of its own).
    return await batches_of(request.app).claim(consumer_id, template_id)


@router.get("/me/coupons", response_model=Page[CouponRead], openapi_extra=access("authenticated"))
def my_coupons(session: DbSession, principal: LoggedIn, paging: Paging,
               status_: Annotated[CouponStatus | None, Query(alias="status")] = None) -> Page[CouponRead]:
    """Your coupons, oldest first, each with its code for the counter."""
    rows, cursor = fetch_page(session, coupons.my_coupons_query(principal.user_id, status_), Coupon.id,
                              paging)
    return Page(items=coupons.coupon_reads(session, rows), next_cursor=cursor)


@router.post("/coupons/quote", response_model=QuoteRead, openapi_extra=access("authenticated"))
def quote(body: QuoteIn, session: DbSession, principal: LoggedIn) -> QuoteRead:
    """Price a cart with your coupons: the best applicable combination (or exactly `coupon_ids`), each
    coupon's discount and why the others do not apply. Nothing is used: the order service does that.
    Errors: `unknown_line_item` (404), `multiple_merchants` (422), `coupon_unusable` (409, chosen coupons)."""
    return redemption.quote(session, principal, body)


@router.post("/coupons/redeem", response_model=CounterRedeemRead, openapi_extra=access("merchant:counter"))
def redeem_at_counter(body: CounterRedeemIn, session: DbSession, principal: LoggedIn) -> CounterRedeemRead:
    """Counter staff redeem a consumer's coupon by its code for a sale of `amount_fen` at `store_id`.
    Errors: `coupon_not_found` (404), `coupon_used`, `coupon_expired`, `coupon_unusable` (409)."""
    return redemption.redeem_at_counter(session, principal, body)
