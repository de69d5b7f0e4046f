"""Order rules: pricing on the server, stock, the state machine's moves, expiry and access.

Prices come from the current SKU and service-item rows; the client names items and quantities
only. Lines keep a snapshot of the name and unit price, so later price changes never touch an
order. One order holds items of one merchant, and either products or service items.
"""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Action, Principal, authorize, authorize_self, require_login
from daodian.kit.clock import utcnow
from daodian.kit.db import insert_later, insert_loaded, unit_of_work
from daodian.kit.errors import NotFound
from daodian.kit.events import publish
from daodian.kit.facts import INSERT_FACT, append_fact, fact_values
from daodian.kit.settings import Settings
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.merchants.models import ServiceItem, StoreStatus
from daodian.orders import repository, states, stock
from daodian.orders.errors import (
    FulfilmentInvalid,
    MixedOrder,
    MultipleMerchants,
    NotForSale,
    OrderExpired,
    OrderNotFound,
    StoreDoesNotOffer,
    UnknownLineItem,
)
from daodian.orders.events import OrderClosed, OrderPaid, OrderPlaced
from daodian.orders.models import Fulfilment, Order, OrderKind, OrderLine, OrderStatus
from daodian.orders.schemas import OrderCreate, OrderLineRead, OrderRead
from daodian.taxonomy.models import CatalogStatus

S = OrderStatus


# --- placing an order -------------------------------------------------------------------------


def create_order(session: Session, principal: Principal, data: OrderCreate, settings: Settings) -> Order:
    return place_order(session, principal, data, settings)[0]


def place_order(session: Session, principal: Principal, data: OrderCreate,
                settings: Settings) -> tuple[Order, list[OrderLine]]:
    """The new order and its lines (priced, discounted)."""
    require_login(principal)
    sku_qty: dict[int, int] = {}
    item_qty: dict[int, int] = {}
    for line in data.lines:  # the same item twice is one line
        if line.sku_id is not None:
            sku_qty[line.sku_id] = sku_qty.get(line.sku_id, 0) + line.quantity
        else:
            item_qty[line.service_item_id] = item_qty.get(line.service_item_id, 0) + line.quantity
    products = _product_lines(session, sku_qty) if sku_qty else None  # unknown ids: 404 before any rule
    items = repository.items(session, set(item_qty))
    services = _service_lines(items, item_qty) if item_qty else None
    if products and services:
        raise MixedOrder()
    lines, merchant_id = products or services
    if any(line.unit_price_fen < 1 for line in lines):  # priced 0 before prices started at 1 fen (kit.money.Price)
        raise NotForSale("An item in this order has no price; it cannot be ordered until the merchant sets one.",
                         code="item_not_priced", details={"lines": [ln.name for ln in lines if ln.unit_price_fen < 1]})
    merchant = merchants.get_merchant(session, merchant_id)
    if not merchants.is_public(merchant):
        raise NotForSale("This merchant is not trading.")
    kind = OrderKind.PRODUCT if sku_qty else OrderKind.SERVICE
    fulfilment, store_id, address = _fulfilment(session, data, kind, merchant_id, items)
    now = utcnow()
    if sku_qty:
        reserve_stock(session, sku_qty, now)
    order = Order(consumer_id=principal.user_id, merchant_id=merchant_id, kind=kind, status=S.CREATED,
                  fulfilment=fulfilment, store_id=store_id, delivery_address=address, note=data.note.strip(),
                  total_fen=sum(line.amount_fen for line in lines), paid_fen=0, refunded_fen=0,
                  expires_at=now + timedelta(minutes=settings.order_payment_minutes), created_at=now, updated_at=now)
    insert_loaded(session, order)  # the order and its lines, each one INSERT (not the ORM's flush: a new order each)
    for line in lines:
        line.order_id = order.id
        insert_loaded(session, line)
    publish(session, OrderPlaced(order=order, lines=lines, coupon_ids=data.coupon_ids, points=data.points))
    insert_later(session, INSERT_FACT, fact_values("order.created", {
        "order_id": order.id, "kind": kind, "total_fen": order.total_fen, "fulfilment": fulfilment,
        "lines": [{"sku_id": ln.sku_id, "service_item_id": ln.service_item_id, "quantity": ln.quantity,
                   "unit_price_fen": ln.unit_price_fen, "amount_fen": ln.amount_fen} for ln in lines],
    }, occurred_at=now, merchant_id=merchant_id, store_id=store_id, consumer_id=order.consumer_id))
    return order, lines


def _product_lines(session: Session, sku_qty: dict[int, int]) -> tuple[list[OrderLine], int]:
    found = repository.skus_with_products(session, set(sku_qty))
    if set(found) != set(sku_qty):
        raise UnknownLineItem(details={"sku_ids": sorted(set(sku_qty) - set(found))})
    lines, merchant_ids = [], set()
    for sku_id in sorted(sku_qty):
        sku, product = found[sku_id]
        if sku.status != CatalogStatus.ACTIVE or product.status != CatalogStatus.ACTIVE:
            raise NotForSale(details={"sku_id": sku_id})
        merchant_ids.add(product.merchant_id)
        name = f"{product.name_zh} {sku.spec_zh}".strip() if sku.spec_zh else product.name_zh
        qty = sku_qty[sku_id]
        lines.append(OrderLine(sku_id=sku_id, name=name[:255], unit_price_fen=sku.price_fen, quantity=qty,
                               amount_fen=sku.price_fen * qty, sessions=1))
    if len(merchant_ids) > 1:
        raise MultipleMerchants()
    return lines, merchant_ids.pop()


def _service_lines(found: dict[int, ServiceItem], item_qty: dict[int, int]) -> tuple[list[OrderLine], int]:
    if set(found) != set(item_qty):
        raise UnknownLineItem(details={"service_item_ids": sorted(set(item_qty) - set(found))})
    lines, merchant_ids = [], set()
    for item_id in sorted(item_qty):
        item = found[item_id]
        if item.status != CatalogStatus.ACTIVE:
            raise NotForSale(details={"service_item_id": item_id})
        merchant_ids.add(item.merchant_id)
        qty = item_qty[item_id]
        lines.append(OrderLine(service_item_id=item_id, name=item.name_zh, unit_price_fen=item.price_fen,
                               quantity=qty, amount_fen=item.price_fen * qty, sessions=max(1, item.sessions or 1)))
    if len(merchant_ids) > 1:
        raise MultipleMerchants()
    return lines, merchant_ids.pop()


def _fulfilment(session: Session, data: OrderCreate, kind: OrderKind, merchant_id: int,
                items: dict[int, ServiceItem]) -> tuple[Fulfilment, int | None, dict | None]:
    item_ids = set(items)
    store = None
    if data.store_id is not None:
        store = stores.get_store(session, data.store_id)
        if store.merchant_id != merchant_id or store.status == StoreStatus.CLOSED:
            raise FulfilmentInvalid("That store is not an open store of this merchant.", code="invalid_store")
    if kind == OrderKind.SERVICE:
        if data.fulfilment is not None:
            raise FulfilmentInvalid("Service orders are consumed at a store; leave out fulfilment and address.")
        at_home = {i.id for i in items.values() if i.at_home}
        if at_home:
            return _at_home(data, at_home == item_ids)
        if data.delivery_address is not None:
            raise FulfilmentInvalid("Service orders are consumed at a store; leave out fulfilment and address.")
        if store is not None and repository.items_offered_at(session, store.id, item_ids) != item_ids:
            raise StoreDoesNotOffer()
        return Fulfilment.AT_STORE, data.store_id, None
    if data.fulfilment == "pickup" and store is not None and data.delivery_address is None:
        return Fulfilment.PICKUP, store.id, None
    if data.fulfilment == "delivery" and data.delivery_address is not None and store is None:
        return Fulfilment.DELIVERY, None, data.delivery_address.model_dump()
    raise FulfilmentInvalid()


def _at_home(data: OrderCreate, all_at_home: bool) -> tuple[Fulfilment, int | None, dict | None]:
    """At-home items (上门服务): a provider is sent to the address (daodian.delivery), which needs its location."""
    if not all_at_home or data.store_id is not None:
        raise FulfilmentInvalid("At-home services go in an order of their own, without a store.",
                                code="at_home_order_invalid")
    if data.delivery_address is None or data.delivery_address.location is None:
        raise FulfilmentInvalid("This service comes to you: give the service address with its location.",
                                code="service_address_missing")
    return Fulfilment.AT_HOME, None, data.delivery_address.model_dump()


# --- reading and access -----------------------------------------------------------------------


def get_order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFound()
    return order


def authorize_view(principal: Principal, order: Order, *, hidden_as: type[NotFound] = OrderNotFound) -> None:
    """The consumer who placed it, the merchant's staff, operators; to anyone else it is missing."""
    if principal.is_authenticated and principal.can(Action.CONSOLE_VIEW, order.merchant_id):
        return
    authorize_self(principal, order.consumer_id, hidden_as=hidden_as)


def order_reads(session: Session, orders: list[Order], lines: dict[int, list[OrderLine]] | None = None) -> list[OrderRead]:
    """`lines`: the orders' lines by order id, when the caller has them (a new order's); else read."""
    lines = repository.lines_by_order(session, [o.id for o in orders]) if lines is None else lines
    return [OrderRead(
        id=o.id, consumer_id=o.consumer_id, merchant_id=o.merchant_id, kind=o.kind, status=o.status,
        fulfilment=o.fulfilment, store_id=o.store_id, delivery_address=o.delivery_address, note=o.note,
        total_fen=o.total_fen, discount_fen=o.discount_fen, points_spent=o.points_spent, paid_fen=o.paid_fen,
        refunded_fen=o.refunded_fen, expires_at=o.expires_at,
        created_at=o.created_at, paid_at=o.paid_at, closed_at=o.closed_at,
        lines=[OrderLineRead.model_validate(ln) for ln in lines[o.id]],
    ) for o in orders]


def order_read(session: Session, order: Order) -> OrderRead:
    return order_reads(session, [order])[0]


# --- expiry -----------------------------------------------------------------------------------


def is_due(order: Order, now: datetime | None = None) -> bool:
    return order.status == S.CREATED and order.expires_at <= (now or utcnow())


def expire(session: Session, order: Order, now: datetime | None = None) -> bool:
    """Expire an unpaid order past its deadline and give its stock back; False if it is not due."""
    now = now or utcnow()
    if not is_due(order, now):
        return False
    states.move(session, order, S.EXPIRED, now=now)
    _restore_stock(session, order)
    append_fact(session, "order.expired", {"order_id": order.id, "total_fen": order.total_fen}, occurred_at=now,
                merchant_id=order.merchant_id, store_id=order.store_id, consumer_id=order.consumer_id)
    publish(session, OrderClosed(order=order))  # coupons, points and a booking's place go back
    return True


def expire_if_due(factory: sessionmaker[Session], order_id: int) -> None:
    """Lazy expiry on access, in its own transaction so that it sticks even if the request then fails. Looked at
    in a read first (no write lock; on SQLite no wait for the write turn): nearly every order asked about is
    not due, and paying one cost a whole writing transaction for nothing."""
    with unit_of_work(factory, read_only=True) as session:
        if not repository.is_due(session, order_id, utcnow()):
            return
    with unit_of_work(factory) as session:
        order = repository.order_for_update(session, order_id)
        if order is not None and is_due(order):
            expire(session, order)


def expire_due(factory: sessionmaker[Session], *, now: datetime | None = None, batch: int = 200) -> int:
    """The `daodian jobs expire-orders` job: expire every due order, one transaction per order."""
    now = now or utcnow()
    expired = 0
    while True:
        with unit_of_work(factory, read_only=True) as session:
            ids = repository.due_order_ids(session, now, batch)
        if not ids:
            return expired
        for order_id in ids:
            with unit_of_work(factory) as session:
                order = repository.order_for_update(session, order_id)
                expired += bool(order and expire(session, order, now))
        if len(ids) < batch:
            return expired


def reserve_stock(session: Session, sku_qty: dict[int, int], now: datetime) -> None:
    """Take the units of a new product order or raise `out_of_stock` (orders.stock.reserve: one conditional
    UPDATE per SKU, so a failed one-SKU reservation took nothing). Due unpaid orders give theirs back first."""
    _expire_holders(session, set(sku_qty), now)  # expired orders must not keep their units
    stock.reserve(session, sku_qty)


def _expire_holders(session: Session, sku_ids: set[int], now: datetime) -> None:
    for order_id in repository.due_order_ids(session, now, 50, sku_ids=sku_ids):
        order = repository.order_for_update(session, order_id)
        if order is not None:
            expire(session, order, now)


def _restore_stock(session: Session, order: Order) -> None:
    quantities = {ln.sku_id: ln.quantity for ln in repository.lines_by_order(session, [order.id])[order.id]
                  if ln.sku_id is not None}
    stock.restore(session, quantities)


# --- moves after placing ----------------------------------------------------------------------


def require_payable(order: Order) -> None:
    if order.status == S.EXPIRED or is_due(order):
        raise OrderExpired()
    if order.status != S.CREATED:
        raise states.InvalidTransition(f"This order is {order.status}; only a created order can be paid.",
                                       code="order_not_payable", details={"status": order.status})


def cancel(session: Session, principal: Principal, order: Order) -> Order:
    """The consumer, or the merchant's managers, cancel an unpaid order; its stock comes back."""
    if not (principal.is_authenticated and principal.can(Action.STORE_MANAGE, order.merchant_id)):
        authorize_self(principal, order.consumer_id, hidden_as=OrderNotFound, merchant_id=order.merchant_id)
    if is_due(order):
        raise OrderExpired()
    _cancel(session, order, by_user_id=principal.user_id, now=utcnow())
    return order


def close_unpaid(session: Session, order: Order, *, by_user_id: int | None) -> None:
    """Close an unpaid order whose booking was cancelled: expired if overdue, else cancelled."""
    now = utcnow()
    if not expire(session, order, now):
        _cancel(session, order, by_user_id=by_user_id, now=now)


def _cancel(session: Session, order: Order, *, by_user_id: int | None, now: datetime) -> None:
    states.move(session, order, S.CANCELLED, now=now)
    _restore_stock(session, order)
    append_fact(session, "order.cancelled", {"order_id": order.id, "total_fen": order.total_fen,
                                             "by": by_user_id}, occurred_at=now,
                merchant_id=order.merchant_id, store_id=order.store_id, consumer_id=order.consumer_id)
    publish(session, OrderClosed(order=order))


def fulfil(session: Session, principal: Principal, order: Order) -> Order:
    """Staff hand the goods over at the pickup counter, or ship them."""
    authorize(principal, Action.COUNTER, order.merchant_id)
    if order.kind != OrderKind.PRODUCT:
        raise states.InvalidTransition("Service orders are fulfilled by verifying their vouchers.")
    now = utcnow()
    states.move(session, order, S.FULFILLED, now=now)
    append_fact(session, "order.fulfilled", {"order_id": order.id, "fulfilment": order.fulfilment},
                occurred_at=now, merchant_id=order.merchant_id, store_id=order.store_id, consumer_id=order.consumer_id)
    return order


def confirm_receipt(session: Session, principal: Principal, order: Order) -> Order:
    authorize_self(principal, order.consumer_id, hidden_as=OrderNotFound, merchant_id=order.merchant_id)
    complete(session, order, S.COMPLETED)
    return order


def complete(session: Session, order: Order, target: OrderStatus) -> None:
    now = utcnow()
    states.move(session, order, target, now=now)
    append_fact(session, "order.completed", {"order_id": order.id, "total_fen": order.total_fen},
                occurred_at=now, merchant_id=order.merchant_id, store_id=order.store_id, consumer_id=order.consumer_id)


# --- called by payments and vouchers, inside their transactions -------------------------------


def mark_paid(session: Session, order: Order, *, amount_fen: int, payment_id: int, provider: str,
              settings: Settings, now: datetime | None = None) -> bool:
    """created -> paid (-> voucher_issued); False if the order is no longer payable (a late payment)."""
    now = now or utcnow()
    if order.status != S.CREATED:
        return False
    try:
        states.move(session, order, S.PAID, now=now, paid_fen=amount_fen, paid_at=now)
    except states.InvalidTransition:
        return False
    insert_later(session, INSERT_FACT, fact_values(
        "order.paid", {"order_id": order.id, "payment_id": payment_id, "provider": provider, "amount_fen": amount_fen,
                       "kind": order.kind}, occurred_at=now,
        merchant_id=order.merchant_id, store_id=order.store_id, consumer_id=order.consumer_id))
    publish(session, OrderPaid(order=order, settings=settings, at=now))  # points; a service order's vouchers
    return True


def locked_order(session: Session, order_id: int) -> Order:
    order = repository.order_for_update(session, order_id)
    if order is None:
        raise OrderNotFound()
    return order


def reserve_refund(session: Session, order: Order, amount_fen: int) -> bool:
    """Count `amount_fen` as refunded if it fits within what was paid; one conditional UPDATE."""
    changed = session.execute(
        update(Order).where(Order.id == order.id, Order.status.in_(states.REFUNDABLE),
                            Order.refunded_fen + amount_fen <= Order.paid_fen)
        .values(refunded_fen=Order.refunded_fen + amount_fen, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(order)
    return changed == 1


def release_refund(session: Session, order: Order, amount_fen: int) -> None:
    """Give a reservation back after the provider refused the refund."""
    session.execute(update(Order).where(Order.id == order.id, Order.refunded_fen >= amount_fen)
                    .values(refunded_fen=Order.refunded_fen - amount_fen, updated_at=utcnow())
                    .execution_options(synchronize_session=False))
    session.refresh(order)
