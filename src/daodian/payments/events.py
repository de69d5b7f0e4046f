"""What the payments domain tells the others (kit.events)."""

from dataclasses import dataclass

from daodian.kit.events import Event
from daodian.orders.models import Order
from daodian.payments.models import Refund


@dataclass(frozen=True)
class RefundSucceeded(Event):
    """The provider paid a refund of an order back (not of a late payment); the order's state is settled.
    `fully_refunded`: everything paid is back, so coupons and points spent on the order return too."""

    order: Order
    refund: Refund
    fully_refunded: bool
