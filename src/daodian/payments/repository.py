from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from daodian.kit.clock import utcnow
from daodian.kit.db import insert_unless_taken
from daodian.payments.models import Payment, PaymentStatus, ProviderNotification, Refund, RefundStatus

# Built once: every payment and its notification read one of them.
_BY_REFERENCE = (select(Payment).where(Payment.out_trade_no == bindparam("out_trade_no"))
                 .execution_options(populate_existing=True))
_OF_ORDER = (select(Payment).where(Payment.order_id == bindparam("order_id")).order_by(Payment.id)
             .execution_options(populate_existing=True))


def payment_by_reference(session: Session, out_trade_no: str) -> Payment | None:
    return session.scalar(_BY_REFERENCE, {"out_trade_no": out_trade_no})


def payments_of_order(session: Session, order_id: int) -> list[Payment]:
    return list(session.scalars(_OF_ORDER, {"order_id": order_id}))


def settling_payment(session: Session, order_id: int) -> Payment | None:
    """The payment that paid the order (late payments excluded: they are refunded on their own)."""
    return session.scalar(select(Payment).where(Payment.order_id == order_id, Payment.status == PaymentStatus.SUCCEEDED,
                                                Payment.late.is_(False))
                          .execution_options(populate_existing=True))


def refunds_of_order(session: Session, order_id: int) -> list[Refund]:
    return list(session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
                                .execution_options(populate_existing=True)))


def refund_by_reference(session: Session, out_refund_no: str) -> Refund | None:
    return session.scalar(select(Refund).where(Refund.out_refund_no == out_refund_no)
                          .execution_options(populate_existing=True))


def refund_for_key(session: Session, idempotency_key_id: int) -> Refund | None:
    return session.scalar(select(Refund).where(Refund.idempotency_key_id == idempotency_key_id))


def pending_refund_ids(session: Session, limit: int) -> list[int]:
    return list(session.scalars(select(Refund.id).where(Refund.status == RefundStatus.PENDING)
                                .order_by(Refund.id).limit(limit)))


def succeeded_refund_total(session: Session, payment_id: int) -> int:
    return session.scalar(select(func.coalesce(func.sum(Refund.amount_fen), 0))
                          .where(Refund.payment_id == payment_id, Refund.status == RefundStatus.SUCCEEDED))


def record_notification(session: Session, *, provider: str, notify_id: str, kind: str, reference: str,
                        payload: dict) -> int | None:
    """The notification's row, outcome "received"; None if this id was recorded before. One INSERT … ON CONFLICT
    DO NOTHING: a concurrent delivery of the same id waits for the first's commit (PostgreSQL) and inserts
    nothing, without the savepoint a failed INSERT would need."""
    return insert_unless_taken(session, ProviderNotification.__table__, ("provider", "notify_id"), {
        "provider": provider, "notify_id": notify_id, "kind": kind, "reference": reference, "outcome": "received",
        "payload": payload, "received_at": utcnow()})


def notification_outcome(session: Session, record_id: int, outcome: str) -> None:
    session.execute(_OUTCOME, {"record_id": record_id, "new_outcome": outcome})


_NOTIFICATIONS = ProviderNotification.__table__
_OUTCOME = update(_NOTIFICATIONS).where(_NOTIFICATIONS.c.id == bindparam("record_id")).values(
    outcome=bindparam("new_outcome"))
