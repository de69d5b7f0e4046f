"""How deliveries react to the other domains (wired in daodian.bootstrap)."""

from sqlalchemy.orm import Session

from daodian.delivery import deliveries
from daodian.orders.events import OrderPaid
from daodian.payments.events import RefundSucceeded


def open_on_order_paid(session: Session, event: OrderPaid) -> None:
    deliveries.open_for_order(session, event.order, event.at)


def cancel_on_refund(session: Session, event: RefundSucceeded) -> None:
    if event.fully_refunded:
        deliveries.cancel_for_order(session, event.order.id)
