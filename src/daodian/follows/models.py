"""Follows (which make the consumer a member), merchant posts and who received a targeted one."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class Follow(Base):
    __tablename__ = "follows"

    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MerchantPost(Base):
    """A merchant's post in its followers' feeds; `members_only` / `min_tier_rank` make it targeted content."""

    __tablename__ = "merchant_posts"

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(String(2000))
    members_only: Mapped[bool] = mapped_column(Boolean, default=False)
    min_tier_rank: Mapped[int | None] = mapped_column(Integer)  # tier-targeted: members of this rank or above
    coupon_template_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("coupon_templates.id"), index=True)
    targeted: Mapped[bool] = mapped_column(Boolean, default=False)  # segment-targeted: only its recipients see it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostRecipient(Base):
    """A consumer a segment campaign sent a targeted post to (campaigns.service); never shown to the merchant."""

    __tablename__ = "post_recipients"

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchant_posts.id", ondelete="CASCADE"), primary_key=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True, index=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id"))
