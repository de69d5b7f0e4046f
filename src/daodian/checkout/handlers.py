"""How checkout reacts to order and refund events: coupons and points applied to a new order, and given
back when it closes unpaid or is refunded in full."""

from sqlalchemy.orm import Session

from daodian.checkout import discounts
from daodian.orders.events import OrderClosed, OrderPlaced
from daodian.payments.events import RefundSucceeded


def apply_discounts(session: Session, event: OrderPlaced) -> None:
    discounts.apply(session, event.order, event.lines, event.coupon_ids, event.points)


def release_on_close(session: Session, event: OrderClosed) -> None:
    discounts.release(session, event.order)


def release_on_full_refund(session: Session, event: RefundSucceeded) -> None:
    if event.fully_refunded:
        discounts.release(session, event.order)
