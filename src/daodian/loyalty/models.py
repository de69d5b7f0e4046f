"""Loyalty tables: the points ledger (append-only, double-entry), earning rules, member tiers and
memberships, follows and merchant posts.

Points are integers; times are aware UTC.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class AccountKind(StrEnum):
    CONSUMER = "consumer"  # a consumer's spendable points; never below zero
    ISSUED = "issued"  # per merchant (or the platform): points it has handed out (goes negative)
    REDEEMED = "redeemed"  # points spent, the platform's sink
    EXPIRED = "expired"  # points that lapsed, the platform's sink


class PointsAccount(Base):
    """`balance` is a cache of the sum of the account's entries; `daodian points reconcile` checks it."""

    __tablename__ = "points_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner_key"),
        CheckConstraint("kind <> 'consumer' OR balance >= 0", name="consumer_not_negative"),
    )

    id: Mapped[IdPk]
    kind: Mapped[AccountKind] = mapped_column(String(16))
    owner_key: Mapped[str] = mapped_column(String(32))  # "user:<id>", "merchant:<id>", "platform"
    consumer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PointsTransaction(Base):
    """One business event; its entries add up to zero. Append-only.

    `reference` makes each event happen once ("order:12" earns once); `reverses_id` makes a
    transaction reversible once.
    """

    __tablename__ = "points_transactions"
    __table_args__ = (UniqueConstraint("kind", "reference"), UniqueConstraint("reverses_id"))

    id: Mapped[IdPk]
    kind: Mapped[str] = mapped_column(String(16))  # earn | spend | expire | reverse
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"))
    points: Mapped[int] = mapped_column(BigInteger)  # > 0: how many points moved
    reference: Mapped[str] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("points_transactions.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # earned points lapse then
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsEntry(Base):
    """One leg of a transaction on one account. Append-only."""

    __tablename__ = "points_entries"
    __table_args__ = (CheckConstraint("delta <> 0", name="delta_not_zero"),)

    id: Mapped[IdPk]
    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_accounts.id"), index=True)
    delta: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- earning rules, member tiers, follows, merchant posts --------------------------------------------

PLATFORM_SCOPE = "platform"


def merchant_scope(merchant_id: int) -> str:
    return f"merchant:{merchant_id}"


class PointsRule(Base):
    """A merchant's earning rate; without a row, the default (loyalty.earning.DEFAULT_POINTS_PER_YUAN)."""

    __tablename__ = "points_rules"
    __table_args__ = (CheckConstraint("points_per_yuan >= 0", name="rate_not_negative"),)

    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    points_per_yuan: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MemberTier(Base):
    """One level of a merchant's (or the platform's) membership: higher `rank`, better benefits.

    A member qualifies for a tier when their rolling spend reaches `min_spend_fen`, or (if set) the points
    they earned in the window reach `min_points`. `scope` is "merchant:<id>" or "platform".
    """

    __tablename__ = "member_tiers"
    __table_args__ = (
        UniqueConstraint("scope", "rank"),
        UniqueConstraint("scope", "name"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 50", name="discount_range"),
        CheckConstraint("points_multiplier_pct >= 100 AND points_multiplier_pct <= 1000", name="multiplier_range"),
    )

    id: Mapped[IdPk]
    scope: Mapped[str] = mapped_column(String(32), index=True)
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"))
    name: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer)
    min_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    min_points: Mapped[int | None] = mapped_column(BigInteger)
    discount_percent: Mapped[int] = mapped_column(Integer, default=0)
    points_multiplier_pct: Mapped[int] = mapped_column(Integer, default=100)  # 150 = 1.5x points
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    """A consumer's membership of a merchant (by following it) or of the platform (by spending)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("consumer_id", "scope"),)

    id: Mapped[IdPk]
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(32), index=True)
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"))
    tier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("member_tiers.id"), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rolling_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # as of last_evaluated_at
    last_evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


