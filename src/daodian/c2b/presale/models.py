"""Pre-sale by vote: a merchant's candidate products, consumers' deposits as votes, the outcome at close.

Money is integer fen; times are aware UTC. A vote counts once its deposit order is paid; at close the
paid votes are counted per candidate, so no counter has to follow the payment flow.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class PresaleStatus(StrEnum):
    OPEN = "open"  # taking votes until closes_at
    CLOSING = "closing"  # claimed by one close run (a conditional UPDATE); a second run does nothing
    CLOSED = "closed"


class CandidateOutcome(StrEnum):
    WON = "won"  # enough paid votes: every voter got a balance order
    LOST = "lost"  # too few: every paid deposit was refunded in full


class Presale(Base):
    __tablename__ = "presales"

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    title: Mapped[str] = mapped_column(String(64))
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[PresaleStatus] = mapped_column(String(16), index=True)
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PresaleCandidate(Base):
    __tablename__ = "presale_candidates"
    __table_args__ = (
        CheckConstraint("deposit_fen > 0 AND deposit_fen < price_fen", name="deposit_below_price"),
        CheckConstraint("threshold >= 1", name="threshold_positive"),
    )

    id: Mapped[IdPk]
    presale_id: Mapped[int] = mapped_column(BigId, ForeignKey("presales.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    name: Mapped[str] = mapped_column(String(255))
    price_fen: Mapped[int] = mapped_column(BigInteger)  # the full price; the balance is price - deposit
    deposit_fen: Mapped[int] = mapped_column(BigInteger)
    threshold: Mapped[int] = mapped_column(Integer)  # paid votes needed to win
    votes: Mapped[int | None] = mapped_column(Integer)  # paid votes, fixed at close
    outcome: Mapped[CandidateOutcome | None] = mapped_column(String(8))


class PresaleVote(Base):
    """One consumer's vote for one candidate (unique), with its deposit order and, if it won, the balance order."""

    __tablename__ = "presale_votes"
    __table_args__ = (UniqueConstraint("candidate_id", "consumer_id"),)

    id: Mapped[IdPk]
    candidate_id: Mapped[int] = mapped_column(BigId, ForeignKey("presale_candidates.id"), index=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    deposit_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    balance_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    refund_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("refunds.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
