"""The closed loop's events as the miner reads them: who bought which product category when, and who
consumed which service category when.

Purchases: paid product orders (paid_at; orders refunded in full do not count) and product lines of
consumption records tied to a member. Consumptions: voucher verifications that were not reversed, and
service lines of consumption records tied to a member. Categories are the leaves the items are filed
under. Anonymous records (no consenting member) cannot link two events and are left out.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.catalog.models import Product, Sku
from daodian.merchants.models import ServiceItem
from daodian.mining.rules import Events
from daodian.orders.models import Order, OrderKind, OrderLine, OrderStatus
from daodian.records.models import ConsumptionLine, ConsumptionRecord
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from daodian.vouchers.models import Verification, Voucher

PAID = (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class ClosedLoop:
    purchases: Events  # what = index into product_categories
    consumptions: Events  # what = index into service_categories
    product_categories: list[ProductCategory]
    service_categories: list[ServiceCategory]


def read_closed_loop(session: Session) -> ClosedLoop:
    products = list(session.scalars(select(ProductCategory).order_by(ProductCategory.id)))
    services = list(session.scalars(select(ServiceCategory).order_by(ServiceCategory.id)))
    product_index = {c.id: i for i, c in enumerate(products)}
    service_index = {c.id: i for i, c in enumerate(services)}
    ordered = session.execute(
        select(Order.consumer_id, Product.category_id, Order.paid_at)
        .join(OrderLine, OrderLine.order_id == Order.id).join(Sku, Sku.id == OrderLine.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(Order.kind == OrderKind.PRODUCT, Order.status.in_(PAID), Order.paid_at.is_not(None)))
    bought_offline = session.execute(
        select(ConsumptionRecord.consumer_id, Product.category_id, ConsumptionRecord.occurred_at)
        .join(ConsumptionLine, ConsumptionLine.record_id == ConsumptionRecord.id)
        .join(Sku, Sku.id == ConsumptionLine.sku_id).join(Product, Product.id == Sku.product_id)
        .where(ConsumptionRecord.consumer_id.is_not(None)))
    verified = session.execute(
        select(Voucher.consumer_id, ServiceItem.category_id, Verification.verified_at)
        .join(Voucher, Voucher.id == Verification.voucher_id)
        .join(ServiceItem, ServiceItem.id == Voucher.service_item_id)
        .where(Verification.reversed_at.is_(None)))
    consumed_offline = session.execute(
        select(ConsumptionRecord.consumer_id, ServiceItem.category_id, ConsumptionRecord.occurred_at)
        .join(ConsumptionLine, ConsumptionLine.record_id == ConsumptionRecord.id)
        .join(ServiceItem, ServiceItem.id == ConsumptionLine.service_item_id)
        .where(ConsumptionRecord.consumer_id.is_not(None)))
    return ClosedLoop(_events([*ordered, *bought_offline], product_index),
                      _events([*verified, *consumed_offline], service_index), products, services)


def _events(rows: list, index: dict[int, int]) -> Events:
    if not rows:
        return Events.of([], [], [])
    who, category, when = zip(*rows)
    return Events.of(who, [index[c] for c in category], [int(t.timestamp()) for t in when])
