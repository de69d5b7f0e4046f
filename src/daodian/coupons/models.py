"""Marketing tables: coupon templates, their stock, the coupons claimed from them, campaigns.

Money is integer fen; points are integers; times are aware UTC.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class CouponKind(StrEnum):
    THRESHOLD = "threshold"  # 满减: `amount_fen` off once the eligible amount reaches `threshold_fen`
    PERCENT = "percent"  # `percent_off` % off the eligible amount, at most `cap_fen`, from `threshold_fen` up
    AMOUNT = "amount"  # 无门槛: `amount_fen` off (never more than the eligible amount)


class CouponScope(StrEnum):
    PLATFORM = "platform"  # every merchant's items (issued by the platform's operators)
    MERCHANT = "merchant"  # every item of the issuing merchant
    STORES = "stores"  # the merchant's items bought for / at these stores (`scope_values`: store ids)
    CATEGORIES = "categories"  # items in these product or service categories, subtrees included (codes)
    ITEMS = "items"  # these items: "sku:<id>" or "service_item:<id>"


class Stacking(StrEnum):
    EXCLUSIVE = "exclusive"  # used alone
    STACKABLE = "stackable"  # combines with one stackable coupon of the other issuer (platform + merchant)


class CouponTemplate(Base):
    __tablename__ = "coupon_templates"
    __table_args__ = (CheckConstraint("per_user_limit >= 1", name="per_user_limit_positive"),)

    id: Mapped[IdPk]
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)  # None: platform
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[CouponKind] = mapped_column(String(16))
    threshold_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    percent_off: Mapped[int | None] = mapped_column(Integer)
    cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    scope: Mapped[CouponScope] = mapped_column(String(16))
    scope_values: Mapped[list] = mapped_column(JSON, default=list)
    stacking: Mapped[Stacking] = mapped_column(String(16), default=Stacking.EXCLUSIVE)
    claim_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claim_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # fixed window: claim_starts_at..valid_until
    valid_days: Mapped[int | None] = mapped_column(Integer)  # or: N days after the claim
    total_quantity: Mapped[int] = mapped_column(Integer)
    per_user_limit: Mapped[int] = mapped_column(Integer, default=1)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # in the coupon centre; else campaigns only
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponStock(Base):
    """A template's stock, split over a few rows (slots) that claims decrement, each conditionally.

    One counter on the template row made every claim on PostgreSQL wait for the previous claim's commit
    (the row lock is held until then); with slots, parallel claims lock different rows and commit
    together, and each decrement is still the database's exact judgement (`remaining > 0`).
    """

    __tablename__ = "coupon_stock"
    __table_args__ = (CheckConstraint("remaining >= 0", name="remaining_not_negative"),)

    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("coupon_templates.id", ondelete="CASCADE"),
                                             primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer)


# What is left of a template: the sum of its slots (read-only; coupons.stock takes from the slots).
CouponTemplate.remaining = column_property(
    select(func.coalesce(func.sum(CouponStock.remaining), 0)).where(CouponStock.template_id == CouponTemplate.id)
    .correlate_except(CouponStock).scalar_subquery())


class CouponStatus(StrEnum):
    AVAILABLE = "available"
    USED = "used"
    VOIDED = "voided"  # taken back (a refund after the coupon's validity, or by the merchant)
    EXPIRED = "expired"


class Coupon(Base):
    """One consumer's coupon. `claim_no` (1..per_user_limit) makes the per-user limit a unique key."""

    __tablename__ = "coupons"
    __table_args__ = (UniqueConstraint("template_id", "consumer_id", "claim_no"),)

    id: Mapped[IdPk]
    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("coupon_templates.id"), index=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    claim_no: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # kit.codes: shown at the counter
    status: Mapped[CouponStatus] = mapped_column(String(16), default=CouponStatus.AVAILABLE, index=True)
    channel: Mapped[str] = mapped_column(String(16))  # "online" (claimed) | "campaign" (issued)
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaigns.id"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"))
    used_store_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stores.id"))
    discount_fen: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- campaigns ---------------------------------------------------------------------------------------


