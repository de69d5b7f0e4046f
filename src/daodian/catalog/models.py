from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime
from daodian.taxonomy.models import CatalogStatus


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


