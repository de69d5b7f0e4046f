from collections import defaultdict
from datetime import datetime

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

from daodian.catalog.models import Product, Sku
from daodian.merchants.models import ServiceItem, StoreItem
from daodian.orders.models import Order, OrderLine, OrderStatus

# Built once: the money-moving paths (pay, verify, refund) lock an order each time.
_FOR_UPDATE = (select(Order).where(Order.id == bindparam("order_id")).with_for_update()
               .execution_options(populate_existing=True))


_DUE = select(Order.id).where(Order.id == bindparam("order_id"), Order.status == OrderStatus.CREATED,
                              Order.expires_at <= bindparam("now"))


def is_due(session: Session, order_id: int, now: datetime) -> bool:
    """Whether the order is unpaid past its deadline (one indexed read)."""
    return session.scalar(_DUE, {"order_id": order_id, "now": now}) is not None


def order_for_update(session: Session, order_id: int) -> Order | None:
    """The order row, locked until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises)."""
    return session.scalar(_FOR_UPDATE, {"order_id": order_id})


_LINE_ROWS = (select(OrderLine.id, OrderLine.service_item_id, OrderLine.sku_id, OrderLine.quantity,
                     OrderLine.unit_price_fen, OrderLine.sessions)
              .where(OrderLine.order_id == bindparam("order_id")).order_by(OrderLine.id))


def line_rows(session: Session, order_id: int) -> list[Row]:
    """An order's lines as rows (what issuing its vouchers needs), not objects: read on every paid order."""
    return list(session.execute(_LINE_ROWS, {"order_id": order_id}))


def lines_by_order(session: Session, order_ids: list[int]) -> dict[int, list[OrderLine]]:
    grouped: dict[int, list[OrderLine]] = defaultdict(list)
    if order_ids:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)):
            grouped[line.order_id].append(line)
    return grouped


def skus_with_products(session: Session, sku_ids: set[int]) -> dict[int, tuple[Sku, Product]]:
    if not sku_ids:
        return {}
    rows = session.execute(select(Sku, Product).join(Product, Product.id == Sku.product_id).where(Sku.id.in_(sku_ids)))
    return {sku.id: (sku, product) for sku, product in rows}


_ITEMS = select(ServiceItem).where(ServiceItem.id.in_(bindparam("item_ids", expanding=True)))


def items(session: Session, item_ids: set[int]) -> dict[int, ServiceItem]:
    if not item_ids:
        return {}
    return {i.id: i for i in session.scalars(_ITEMS, {"item_ids": list(item_ids)})}


def items_offered_at(session: Session, store_id: int, item_ids: set[int]) -> set[int]:
    if not item_ids:
        return set()
    return set(session.scalars(select(StoreItem.item_id).where(StoreItem.store_id == store_id,
                                                               StoreItem.item_id.in_(item_ids))))


def orders_query(*, consumer_id: int | None = None, merchant_id: int | None = None,
                 status: OrderStatus | None = None) -> Select:
    stmt = select(Order)
    if consumer_id is not None:
        stmt = stmt.where(Order.consumer_id == consumer_id)
    if merchant_id is not None:
        stmt = stmt.where(Order.merchant_id == merchant_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    return stmt


def due_order_ids(session: Session, now: datetime, limit: int, *, sku_ids: set[int] | None = None) -> list[int]:
    stmt = select(Order.id).where(Order.status == OrderStatus.CREATED, Order.expires_at <= now)
    if sku_ids:
        stmt = stmt.where(Order.id.in_(select(OrderLine.order_id).where(OrderLine.sku_id.in_(sku_ids))))
    return list(session.scalars(stmt.order_by(Order.id).limit(limit)))


def line_names(session: Session, line_ids: set[int]) -> dict[int, str]:
    if not line_ids:
        return {}
    return dict(session.execute(select(OrderLine.id, OrderLine.name).where(OrderLine.id.in_(line_ids))).all())


