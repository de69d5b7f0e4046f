"""How loyalty reacts to other domains' events: points earned on what was paid, taken back on refunds."""

from sqlalchemy.orm import Session

from daodian.loyalty import earning
from daodian.orders.events import OrderPaid
from daodian.payments.events import RefundSucceeded
from daodian.records.events import ConsumptionRecorded


def earn_on_order_paid(session: Session, event: OrderPaid) -> None:
    earning.on_order_paid(session, event.order)  # once per order, in the payment's transaction


def earn_on_consumption_recorded(session: Session, event: ConsumptionRecorded) -> None:
    earning.on_consumption_recorded(session, event.record)  # an identified member earns, once per record


def take_back_on_refund(session: Session, event: RefundSucceeded) -> None:
    earning.on_refund_succeeded(session, event.order, event.refund, fully_refunded=event.fully_refunded)
