"""Order routes. They run their own short transactions (see accounts.own_transaction_deps): lazy expiry of an
unpaid order commits on its own, before the request's work, so it sticks even when the work fails."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, require_login
from daodian.accounts.own_transaction_deps import Factory, OwnLoggedIn, scope_of
from daodian.catalog import service as catalog
from daodian.kit.api import idempotency
from daodian.kit.api.http import ObjectId, access
from daodian.kit.api.pagination import Page, Paging, fetch_page
from daodian.kit.api.scopes import declare
from daodian.kit.db import unit_of_work
from daodian.merchants import service as merchants
from daodian.merchants import service_items
from daodian.orders import repository, service, stock
from daodian.orders.errors import OrderNotFound
from daodian.orders.models import Order, OrderStatus
from daodian.orders.schemas import OrderCreate, OrderRead, SessionsIn, StockIn, StockRead

router = APIRouter(tags=["orders"])
declare(router, "order:read", "order:write")  # the scopes apps' tokens need here (kit.api.scopes)


# OpenAPI links: what a client (and schemathesis' stateful phase, tests/test_api_stateful.py) does next
# with the order it placed: read it, pay it (payments links on to refunds), cancel it.
_THE_ORDER = {"order_id": "$response.body#/id"}
ORDER_LINKS = {
    "GetOrder": {"operationId": "get_order_api_v1_orders__order_id__get", "parameters": _THE_ORDER},
    "PayOrder": {"operationId": "pay_api_v1_orders__order_id__pay_post", "parameters": _THE_ORDER},
    "CancelOrder": {"operationId": "cancel_order_api_v1_orders__order_id__cancel_post", "parameters": _THE_ORDER},
}


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=OrderRead,
             openapi_extra=idempotency.openapi("authenticated"),
             responses={201: {"description": "The order, priced by the server.", "links": ORDER_LINKS}})
def create_order(body: OrderCreate, request: Request, principal: OwnLoggedIn,
                 idempotency_key: idempotency.KeyHeader) -> JSONResponse:
    """Place an order for SKUs (delivery, or pickup at a store) or for service items (paid with vouchers).

    The server prices every line from the current catalog; a client-sent price is refused (422).
    Stock of limited SKUs is reserved now and given back if the order is cancelled or expires.
    Requires `Idempotency-Key`.

    Errors: `idempotency_key_required` (400), `idempotency_key_reused` (422), `idempotency_in_progress`
    (409), `validation_error` (422: products mixed with service items, or a fulfilment that does not fit),
    `unknown_line_item` (404), `not_for_sale` (409), `out_of_stock` (409), `multiple_merchants`,
    `invalid_store`, `store_does_not_offer` (422), `store_not_found` (404).
    """
    require_login(principal)
    settings = request.app.state.settings

    def work(session: Session, claim: idempotency.Claim):
        order, lines = service.place_order(session, principal, body, settings)
        read = service.order_reads(session, [order], {order.id: lines})[0]
        claim.complete(session, 201, idempotency.dump(read))
        return 201, read

    # One transaction: written with the other requests' of the moment (kit.api.group_commit).
    return idempotency.run_unit(request, scope=scope_of(principal), key=idempotency_key, body=body, unit=work)


@router.get("/orders", response_model=Page[OrderRead], openapi_extra=access("self"))
def my_orders(principal: OwnLoggedIn, factory: Factory, paging: Paging,
              status_: Annotated[OrderStatus | None, Query(alias="status")] = None) -> Page[OrderRead]:
    """The caller's own orders, oldest first."""
    require_login(principal)
    with unit_of_work(factory, read_only=True) as session:
        rows, cursor = fetch_page(session, repository.orders_query(consumer_id=principal.user_id, status=status_),
                                  Order.id, paging)
        return Page(items=service.order_reads(session, rows), next_cursor=cursor)


@router.get("/merchants/{merchant_id}/orders", response_model=Page[OrderRead],
            openapi_extra=access("merchant:console.view"))
def merchant_orders(merchant_id: ObjectId, principal: OwnLoggedIn, factory: Factory, paging: Paging,
                    status_: Annotated[OrderStatus | None, Query(alias="status")] = None) -> Page[OrderRead]:
    """A merchant's orders, for its staff."""
    with unit_of_work(factory, read_only=True) as session:
        merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
        rows, cursor = fetch_page(session, repository.orders_query(merchant_id=merchant.id, status=status_),
                                  Order.id, paging)
        return Page(items=service.order_reads(session, rows), next_cursor=cursor)


@router.get("/orders/{order_id}", response_model=OrderRead, openapi_extra=access("self|merchant:console.view"))
def get_order(order_id: ObjectId, principal: OwnLoggedIn, factory: Factory) -> OrderRead:
    """One order, for the consumer who placed it or the merchant's staff. An unpaid order past its
    deadline is expired on the way (lazy expiry). Errors: `order_not_found` (404)."""
    require_login(principal)
    service.expire_if_due(factory, order_id)
    with unit_of_work(factory, read_only=True) as session:
        order = service.get_order(session, order_id)
        service.authorize_view(principal, order)
        return service.order_read(session, order)


def _act(factory, principal, order_id: int, action) -> OrderRead:
    require_login(principal)
    service.expire_if_due(factory, order_id)
    with unit_of_work(factory) as session:
        order = repository.order_for_update(session, order_id)
        if order is None:
            raise OrderNotFound()
        action(session, principal, order)
        return service.order_read(session, order)


@router.post("/orders/{order_id}/cancel", response_model=OrderRead,
             openapi_extra=access("self|merchant:store.manage"))
def cancel_order(order_id: ObjectId, principal: OwnLoggedIn, factory: Factory) -> OrderRead:
    """Cancel an unpaid order (the consumer, or the merchant's managers); its stock comes back.
    Errors: `order_expired` (409), `invalid_transition` (409: already paid, cancelled...)."""
    return _act(factory, principal, order_id, service.cancel)


@router.post("/orders/{order_id}/fulfil", response_model=OrderRead, openapi_extra=access("merchant:counter"))
def fulfil_order(order_id: ObjectId, principal: OwnLoggedIn, factory: Factory) -> OrderRead:
    """Staff hand a paid product order over at the pickup counter, or ship it: paid -> fulfilled.
    Errors: `invalid_transition` (409)."""
    return _act(factory, principal, order_id, service.fulfil)


@router.post("/orders/{order_id}/confirm", response_model=OrderRead, openapi_extra=access("self"))
def confirm_order(order_id: ObjectId, principal: OwnLoggedIn, factory: Factory) -> OrderRead:
    """The consumer confirms receipt of a fulfilled product order: fulfilled -> completed.
    Errors: `invalid_transition` (409)."""
    return _act(factory, principal, order_id, service.confirm_receipt)


# --- inventory --------------------------------------------------------------------------------


@router.put("/skus/{sku_id}/stock", response_model=StockRead, openapi_extra=access("merchant:catalog.manage"))
def set_stock(sku_id: ObjectId, body: StockIn, principal: OwnLoggedIn, factory: Factory) -> StockRead:
    """Set the units on hand of a SKU (`null` = unlimited). Units held by unpaid orders are not counted."""
    with unit_of_work(factory) as session:
        sku = catalog.get_sku(session, sku_id)
        product = catalog.get_product(session, sku.product_id)
        merchants.managed_merchant(session, principal, product.merchant_id, Action.CATALOG_MANAGE)
        sku = stock.set_stock(session, sku, body.stock)
        return StockRead(sku_id=sku.id, stock=sku.stock)


@router.put("/service-items/{item_id}/sessions", response_model=SessionsIn,
            openapi_extra=access("merchant:catalog.manage"))
def set_sessions(item_id: ObjectId, body: SessionsIn, principal: OwnLoggedIn, factory: Factory) -> SessionsIn:
    """Make a service item a multi-session card: each voucher sold from now on carries this many uses."""
    with unit_of_work(factory) as session:
        item = service_items.get_item(session, item_id)
        merchants.managed_merchant(session, principal, item.merchant_id, Action.CATALOG_MANAGE)
        item.sessions = body.sessions
        session.flush()
        return SessionsIn(sessions=item.sessions)
