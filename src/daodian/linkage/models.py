from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class LinkSource(StrEnum):
    CURATED = "curated"  # from the seed list or entered by an operator
    MINED = "mined"  # proposed by the miner from closed-loop data (purchase of X, then consumption of Y)


class LinkStatus(StrEnum):
    CANDIDATE = "candidate"  # proposed, not shown to consumers until an operator makes it live
    LIVE = "live"
    REJECTED = "rejected"  # kept so the miner does not propose it again


class CategoryLink(Base):
    """A product category completed by a local service category: 机油 -> 保养换油.

    A link on a level-1 product category applies to every category below it. The target is always a
    leaf service category, because stores and service items are filed under leaves. One row per
    (product category, service category, source): a curated and a mined opinion of the same pair
    coexist, and the mined figures are refreshed in place by later mining runs.
    """

    __tablename__ = "category_links"
    __table_args__ = (
        # Spelled out: the conventional name would pass PostgreSQL's 63-character limit.
        UniqueConstraint("product_category_id", "service_category_id", "source", name="uq_category_links_pair_source"),
        CheckConstraint("strength >= 0 AND strength <= 1", name="strength_range"),
        CheckConstraint("source IN ('curated', 'mined')", name="source_known"),
        CheckConstraint("status IN ('candidate', 'live', 'rejected')", name="status_known"),
    )

    id: Mapped[IdPk]
    product_category_id: Mapped[int] = mapped_column(BigId, ForeignKey("product_categories.id"), index=True)
    service_category_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_categories.id"), index=True)
    source: Mapped[LinkSource] = mapped_column(String(16))
    status: Mapped[LinkStatus] = mapped_column(String(16), index=True)
    strength: Mapped[float] = mapped_column(Float)  # 0..1, orders the services shown for a product

    # Association-rule figures of the last mining run (null for curated links). Counts are of buyers.
    support: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    lift: Mapped[float | None] = mapped_column(Float)
    pair_count: Mapped[int | None] = mapped_column(BigInteger)  # bought X and then consumed Y
    antecedent_count: Mapped[int | None] = mapped_column(BigInteger)  # bought X
    consequent_count: Mapped[int | None] = mapped_column(BigInteger)  # consumed Y
    window_days: Mapped[int | None] = mapped_column(Integer)  # how long after the purchase a consumption counts
    mined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Set when an operator created or decided on the link; sync and mining never change such a row's
    # status or strength again.
    reviewed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    @property
    def operator_decided(self) -> bool:
        return self.reviewed_at is not None
