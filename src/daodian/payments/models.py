from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class PaymentStatus(StrEnum):
    PENDING = "pending"  # waiting for the provider's notification
    SUCCEEDED = "succeeded"  # the money arrived
    FAILED = "failed"  # the provider said no
    CANCELLED = "cancelled"  # superseded by another attempt, or the order closed before paying


class RefundStatus(StrEnum):
    PENDING = "pending"  # sent (or about to be sent) to the provider
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused: the amount and voucher uses were given back


class Payment(Base):
    """One attempt to pay an order through one provider."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refunds_within_amount"),
    )

    id: Mapped[IdPk]
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    status: Mapped[PaymentStatus] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # refunds succeeded or under way
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)  # our reference at the provider
    provider_trade_no: Mapped[str | None] = mapped_column(String(64))  # theirs, from the notification
    pay_url: Mapped[str | None] = mapped_column(String(2048))
    # Paid after the order had closed (cancelled, expired, paid by another attempt): refunded at once.
    late: Mapped[bool] = mapped_column(default=False)
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. offline: store, method, reference
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Refund(Base):
    """Money going back through the provider that took it."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[IdPk]
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("payments.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    status: Mapped[RefundStatus] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200), default="")
    voided_uses: Mapped[dict] = mapped_column(JSON, default=dict)  # voucher id -> uses voided by this refund
    out_refund_no: Mapped[str] = mapped_column(String(32), unique=True)  # the provider dedupes on it
    provider_refund_no: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(String(255))
    idempotency_key_id: Mapped[int | None] = mapped_column(BigId, index=True)  # resume a retried request
    requested_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProviderNotification(Base):
    """Each notification id a provider sent, once: a replay finds its row and changes nothing."""

    __tablename__ = "provider_notifications"
    __table_args__ = (UniqueConstraint("provider", "notify_id"),)

    id: Mapped[IdPk]
    provider: Mapped[str] = mapped_column(String(16))
    notify_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # "payment" | "refund"
    reference: Mapped[str] = mapped_column(String(64))  # out_trade_no or out_refund_no
    outcome: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
