from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.db import Base, BigId, IdPk


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
