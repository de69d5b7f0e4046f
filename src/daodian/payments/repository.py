from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.payments.models import Payment, PaymentStatus, ProviderNotification, Refund, RefundStatus


def payment_by_reference(session: Session, out_trade_no: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.out_trade_no == out_trade_no)
                          .execution_options(populate_existing=True))


def payments_of_order(session: Session, order_id: int) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
                                .execution_options(populate_existing=True)))


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


def notification_seen(session: Session, provider: str, notify_id: str) -> ProviderNotification | None:
    return session.scalar(select(ProviderNotification).where(ProviderNotification.provider == provider,
                                                             ProviderNotification.notify_id == notify_id))
