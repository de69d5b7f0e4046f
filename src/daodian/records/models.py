from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class IdentifiedBy(StrEnum):
    PHONE = "phone"
    MEMBER_CODE = "member_code"
    VOUCHER = "voucher"
    NONE = "none"  # anonymous: no member given, or the consumer did not agree


class RecordSource(StrEnum):
    CONSOLE = "console"  # typed in the merchant console
    POS = "pos"  # sent by a POS system through the API


class ReviewStatus(StrEnum):
    VISIBLE = "visible"
    HIDDEN = "hidden"  # taken down by an operator; no longer counted in the store rating


class ConsumptionRecord(Base):
    """One offline sale as the store's POS saw it. Idempotent by (merchant, receipt id)."""

    __tablename__ = "consumption_records"
    __table_args__ = (
        UniqueConstraint("merchant_id", "receipt_id"),
        CheckConstraint("total_fen >= 0", name="total_not_negative"),
    )

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"))
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    receipt_id: Mapped[str] = mapped_column(String(64))
    # Set only when the consumer agreed to be identified at the counter.
    consumer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    identified_by: Mapped[IdentifiedBy] = mapped_column(String(16))
    voucher_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("vouchers.id"))  # when identified by voucher
    recorded_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    source: Mapped[RecordSource] = mapped_column(String(8))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # SHA-256 of the request as received: a retry with the same receipt id must carry the same content.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsumptionLine(Base):
    """What was sold: exactly one of a product SKU or a service item, with the amount actually charged."""

    __tablename__ = "consumption_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint("(sku_id IS NULL) <> (service_item_id IS NULL)", name="one_subject"),
    )

    id: Mapped[IdPk]
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("consumption_records.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    service_item_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("service_items.id"), index=True)
    description: Mapped[str] = mapped_column(String(255))  # the name at the time of sale
    quantity: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class Review(Base):
    """A consumer's review of one verified visit: a consumption record of theirs or a verified voucher."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("(record_id IS NULL) <> (verification_id IS NULL)", name="one_basis"),
        CheckConstraint("rating_experience BETWEEN 1 AND 5", name="experience_range"),
        CheckConstraint("rating_service BETWEEN 1 AND 5", name="service_range"),
        CheckConstraint("rating_product IS NULL OR rating_product BETWEEN 1 AND 5", name="product_range"),
    )

    id: Mapped[IdPk]
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    # One review per basis: the unique constraints are what makes "review once" hold under races.
    record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("consumption_records.id"), unique=True)
    verification_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("verifications.id"), unique=True)
    rating_experience: Mapped[int] = mapped_column(SmallInteger)  # the one that feeds the store rating
    rating_service: Mapped[int] = mapped_column(SmallInteger)
    rating_product: Mapped[int | None] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReviewStatus] = mapped_column(String(16), default=ReviewStatus.VISIBLE)
    merchant_reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
