"""What the orders domain tells the others (kit.events): an order placed, paid, or closed unpaid."""

from dataclasses import dataclass, field
from datetime import datetime

from daodian.kit.events import Event
from daodian.kit.settings import Settings
from daodian.orders.models import Order, OrderLine


@dataclass(frozen=True)
class OrderPlaced(Event):
    """A new order's lines are priced at list price; checkout applies the consumer's coupons and points."""

    order: Order
    lines: list[OrderLine]
    coupon_ids: list[int] = field(default_factory=list)
    points: int = 0


@dataclass(frozen=True)
class OrderPaid(Event):
    """Once per order, in the payment's transaction: points are earned, a service order's vouchers issued."""

    order: Order
    settings: Settings
    at: datetime


@dataclass(frozen=True)
class OrderClosed(Event):
    """An unpaid order was cancelled or expired: its coupons, points and any booking place go back."""

    order: Order
