"""Group buy routes: the merchant console's deals, the public deal and its progress, joining, settling."""

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from daodian.accounts.authz import Action, require_operator
from daodian.accounts.dependencies import LoggedIn
from daodian.accounts.own_transaction_deps import AppSettings, Factory, OwnLoggedIn
from daodian.c2b.group_buy import service as group_buy
from daodian.c2b.group_buy.models import GroupBuy
from daodian.c2b.group_buy.schemas import GroupBuyCreate, GroupBuyRead, JoinRead, SettleRead
from daodian.kit.api.http import DbSession, ObjectId, QueryId, access
from daodian.kit.api.pagination import Page, Paging, fetch_page
from daodian.kit.api.scopes import declare
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.merchants import service as merchants

router = APIRouter(tags=["group-buys"])
declare(router, "marketing:read", "marketing:write")  # the scopes apps' tokens need here (kit.api.scopes)


@router.post("/merchants/{merchant_id}/group-buys", status_code=status.HTTP_201_CREATED, response_model=GroupBuyRead,
             openapi_extra=access("merchant:catalog.manage"))
def create_group_buy(merchant_id: ObjectId, body: GroupBuyCreate, session: DbSession,
                     principal: LoggedIn) -> GroupBuyRead:
    """Open a tiered group buy of one of the merchant's service items. Errors: `service_item_not_found` (404),
    `invalid_tiers` (422: each tier needs more participants and a lower price), `invalid_window` (422),
    `invalid_group_buy` (422), `validation_error` (422)."""
    return group_buy.read(session, group_buy.create(session, principal, merchant_id, body))


@router.get("/merchants/{merchant_id}/group-buys", response_model=Page[GroupBuyRead],
            openapi_extra=access("merchant:console.view"))
def merchant_group_buys(merchant_id: ObjectId, session: DbSession, principal: LoggedIn,
                        paging: Paging) -> Page[GroupBuyRead]:
    """Every group buy of the merchant, any status, for its staff."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    rows, cursor = fetch_page(session, select(GroupBuy).where(GroupBuy.merchant_id == merchant_id), GroupBuy.id, paging)
    return Page(items=[group_buy.read(session, d) for d in rows], next_cursor=cursor)


@router.get("/group-buys", response_model=Page[GroupBuyRead], openapi_extra=access("public"))
def open_group_buys(session: DbSession, paging: Paging, merchant_id: QueryId = None) -> Page[GroupBuyRead]:
    """Group buys open for joining now, optionally of one merchant."""
    rows, cursor = fetch_page(session, group_buy.open_deals_query(merchant_id, utcnow()), GroupBuy.id, paging)
    return Page(items=[group_buy.read(session, d) for d in rows], next_cursor=cursor)


@router.get("/group-buys/{group_buy_id}", response_model=GroupBuyRead, openapi_extra=access("public"))
def get_group_buy(group_buy_id: ObjectId, session: DbSession) -> GroupBuyRead:
    """One group buy: its tiers, paid participants, the tier reached, the next tier and how many more it needs.
    Errors: `group_buy_not_found` (404)."""
    return group_buy.read(session, group_buy.get(session, group_buy_id))


@router.post("/group-buys/{group_buy_id}/joins", status_code=status.HTTP_201_CREATED, response_model=JoinRead,
             responses={200: {"model": JoinRead, "description": "You had joined already: your join."}},
             openapi_extra=access("authenticated"))
def join_group_buy(group_buy_id: ObjectId, principal: OwnLoggedIn, factory: Factory, settings: AppSettings,
                   response: Response) -> JoinRead:
    """Join at the top price: creates your unpaid order; pay it with POST /orders/{order_id}/pay. Joining again
    returns your join (200), never a second one. Errors: `group_buy_not_found` (404), `group_buy_closed` (409)."""
    code, read = group_buy.join(factory, settings, principal, group_buy_id)
    response.status_code = code
    return read


@router.post("/group-buys/{group_buy_id}/settle", response_model=SettleRead, openapi_extra=access("operator"))
def settle_group_buy(group_buy_id: ObjectId, principal: OwnLoggedIn, factory: Factory,
                     settings: AppSettings) -> SettleRead:
    """Settle a group buy past its end now (operators; the `daodian group-buys settle` job does it on schedule).
    Safe to repeat: a settled deal refunds nothing twice. Errors: `group_buy_not_found` (404),
    `group_buy_running` (409), `forbidden` (403)."""
    require_operator(principal)
    with unit_of_work(factory, read_only=True) as session:
        group_buy.get(session, group_buy_id)
    return group_buy.settle(factory, settings, group_buy_id)
