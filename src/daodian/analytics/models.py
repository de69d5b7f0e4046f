from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, UTCDateTime


class MemberSegment(Base):
    """A consumer's RFM scores and lifecycle segment at one merchant, as of the last `daodian facts job`.

    Marketing targets campaigns at segments through `analytics.service.members_in_segment`; the rows
    never reach a merchant (they see counts through the privacy guard, identities only with consent).
    """

    __tablename__ = "member_segments"

    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
    segment: Mapped[str] = mapped_column(String(16), index=True)  # analytics.rfm.Segment
    recency_days: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    monetary_fen: Mapped[int] = mapped_column(BigInteger)
    r_score: Mapped[int] = mapped_column(SmallInteger)
    f_score: Mapped[int] = mapped_column(SmallInteger)
    m_score: Mapped[int] = mapped_column(SmallInteger)
    first_purchase_on: Mapped[date] = mapped_column(Date)
    last_purchase_on: Mapped[date] = mapped_column(Date)
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
