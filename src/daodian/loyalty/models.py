"""Loyalty tables: the points ledger (append-only, double-entry).

Points are integers; times are aware UTC.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
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
