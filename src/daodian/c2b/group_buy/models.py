"""Tiered group buy (C2B) tables: the deal, who joined it, and one settlement per join.

Money is integer fen; times are aware UTC. `tiers` is a list of {"min_participants", "price_fen"},
participants ascending and prices strictly descending; joiners pay the first (top) price.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class GroupBuyStatus(StrEnum):
    OPEN = "open"  # taking joins until ends_at
    SETTLING = "settling"  # outcome fixed, refunds being opened (a crashed settle resumes here)
    SETTLED = "settled"  # the minimum was reached: everyone paid the reached tier's price
    FAILED = "failed"  # below the minimum: everyone was refunded in full


class GroupBuy(Base):
    __tablename__ = "group_buys"
    __table_args__ = (CheckConstraint("min_participants >= 1", name="min_participants_positive"),)

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    service_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_items.id"))
    title: Mapped[str] = mapped_column(String(64))
    tiers: Mapped[list] = mapped_column(JSON)
    min_participants: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[GroupBuyStatus] = mapped_column(String(16), index=True)
    final_participants: Mapped[int | None] = mapped_column(Integer)  # fixed once, when settling starts
    final_price_fen: Mapped[int | None] = mapped_column(BigInteger)  # None: the deal failed
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GroupBuyJoin(Base):
    """One consumer in one deal (unique), with the order they pay at the top price."""

    __tablename__ = "group_buy_joins"
    __table_args__ = (UniqueConstraint("group_buy_id", "consumer_id"),)

    id: Mapped[IdPk]
    group_buy_id: Mapped[int] = mapped_column(BigId, ForeignKey("group_buys.id"), index=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupBuySettlement(Base):
    """The settlement of one paid join, at most once (unique join): a second settle finds it and does nothing."""

    __tablename__ = "group_buy_settlements"

    id: Mapped[IdPk]
    join_id: Mapped[int] = mapped_column(BigId, ForeignKey("group_buy_joins.id"), unique=True)
    refund_fen: Mapped[int] = mapped_column(BigInteger)
    refund_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("refunds.id"))
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
