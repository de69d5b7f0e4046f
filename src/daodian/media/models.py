from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class OwnerKind(StrEnum):
    STORE = "store"
    PRODUCT = "product"
    SERVICE_ITEM = "service_item"
    REVIEW = "review"


class Photo(Base):
    """One photo of a store, product, service item or review. The owner is named by kind and id (the owners
    live in domains above this one); `name` is the stored full image, `name` with .thumb its thumbnail."""

    __tablename__ = "photos"
    # One photo per place: two uploads racing for an owner's last free place cannot both win (the cap holds).
    __table_args__ = (UniqueConstraint("owner_kind", "owner_id", "position"),)

    id: Mapped[IdPk]
    owner_kind: Mapped[OwnerKind] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(BigId)
    position: Mapped[int] = mapped_column(SmallInteger)  # order shown; the first is the cover
    name: Mapped[str] = mapped_column(String(48), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    thumb_name: Mapped[str] = mapped_column(String(48))
    uploaded_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))  # None: the demo's own
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
