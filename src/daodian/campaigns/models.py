"""Campaigns sent to a segment: a coupon or a post, with the audience size it had."""

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class Campaign(Base):
    """Coupons (template_id) or a post (post_id) sent to a segment of a merchant's members; the audience
    is sized, never listed. Exactly one of the two is set when sent (a deleted post leaves post_id null)."""

    __tablename__ = "campaigns"

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("coupon_templates.id"))
    post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchant_posts.id", ondelete="SET NULL"))
    segment: Mapped[str] = mapped_column(String(16))
    inactive_days: Mapped[int | None] = mapped_column(Integer)
    audience: Mapped[int] = mapped_column(Integer)  # consumers targeted
    issued: Mapped[int] = mapped_column(Integer)  # coupons issued (stock may run out first)
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
