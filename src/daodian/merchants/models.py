from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime
from daodian.taxonomy.models import CatalogStatus


class MerchantStatus(StrEnum):
    PENDING = "pending"  # signed up, waiting for the operator
    ACTIVE = "active"
    SUSPENDED = "suspended"  # hidden by the operator
    CLOSED = "closed"  # closed by its owner


class StoreStatus(StrEnum):
    OPEN = "open"  # trading as usual (opening hours still apply)
    PAUSED = "paused"  # temporarily closed, still listed
    CLOSED = "closed"  # closed for good, no longer listed


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[MerchantStatus] = mapped_column(String(16), default=MerchantStatus.PENDING)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)  # id in an imported data set
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: app processes poll it to keep their in-memory nearby index in step (nearby.index).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)


class Store(Base):
    """One physical location. Coordinates are kept as given (with their datum) and as WGS-84."""

    __tablename__ = "stores"

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[float] = mapped_column(Float)  # WGS-84
    lng: Mapped[float] = mapped_column(Float)  # WGS-84
    input_lat: Mapped[float] = mapped_column(Float)
    input_lng: Mapped[float] = mapped_column(Float)
    input_datum: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Weekly hours as [[iso_weekday, open_minute, close_minute], ...]; close may pass 1440 (after midnight).
    hours: Mapped[list] = mapped_column(JSON, default=list)
    closed_dates: Mapped[list] = mapped_column(JSON, default=list)  # ISO dates, e.g. holidays
    status: Mapped[StoreStatus] = mapped_column(String(16), default=StoreStatus.OPEN)
    primary_category_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_categories.id"), index=True)
    rating_avg: Mapped[float] = mapped_column(Float, default=0.0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    # Verified visits/orders in the last 90 days: the popularity part of the nearby ranking (docs/ranking.md).
    popularity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)


class StoreCategory(Base):
    """The service categories a store provides (its primary one included)."""

    __tablename__ = "store_service_categories"

    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_categories.id"), primary_key=True, index=True)


class StoreItem(Base):
    """A service item offered at a store."""

    __tablename__ = "store_service_items"

    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_items.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)


class StorePromotion(Base):
    """A paid promotion window: while it runs, the store may be lifted into a labelled promotion slot
    of nearby results (never more than one in five; see geo.ranking). Cancelled ones are kept as a record."""

    __tablename__ = "store_promotions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[IdPk]
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ServiceItem(Base):
    """A service a merchant sells to be consumed in its stores (or at home): an oil change, a haircut."""

    __tablename__ = "service_items"
    __table_args__ = (
        CheckConstraint("price_fen >= 0", name="price_not_negative"),
        CheckConstraint("duration_min > 0", name="duration_positive"),
    )

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_categories.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price_fen: Mapped[int] = mapped_column(BigInteger)
    duration_min: Mapped[int] = mapped_column(Integer)
    status: Mapped[CatalogStatus] = mapped_column(String(16), default=CatalogStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Uses per voucher: 1 for a single service, e.g. 5 for a five-session card (vouchers.service).
    sessions: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # 上门服务: a provider goes to the consumer's address (daodian.delivery, a visit) instead of a store visit.
    at_home: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
