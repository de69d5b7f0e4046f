from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class CatalogStatus(StrEnum):
    ACTIVE = "active"
    HIDDEN = "hidden"  # kept for orders and history, not offered any more


class _Category:
    """The shape both category trees share: stable code, parent, names in zh-CN and English."""

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    level: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ProductCategory(_Category, Base):
    __tablename__ = "product_categories"

    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product_categories.id"), index=True)


class ServiceCategory(_Category, Base):
    __tablename__ = "service_categories"

    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("service_categories.id"), index=True)


class Product(Base):
    """Something sold online by a merchant; what is actually bought is one of its SKUs."""

    __tablename__ = "products"

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("product_categories.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CatalogStatus] = mapped_column(String(16), default=CatalogStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: every process's search index polls for products changed since its watermark.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)


class Sku(Base):
    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint("price_fen >= 0", name="price_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[IdPk]
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    spec_zh: Mapped[str] = mapped_column(String(120), default="")
    spec_en: Mapped[str | None] = mapped_column(String(120))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[CatalogStatus] = mapped_column(String(16), default=CatalogStatus.ACTIVE)
    # Units on hand; None = unlimited. Orders reserve stock when created (orders.stock), never below zero.
    stock: Mapped[int | None] = mapped_column(Integer)


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
    # Uses per voucher: 1 for a single service, e.g. 5 for a five-session card (orders.vouchers).
    sessions: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
