from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class CatalogStatus(StrEnum):
    ACTIVE = "active"
    HIDDEN = "hidden"  # kept for orders and history, not offered any more


class CategoryStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"  # retired by an operator: out of the trees and pickers; what is filed under it keeps it


class _Category:
    """The shape both category trees share: stable code, parent, names in zh-CN and English."""

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    level: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=CategoryStatus.ACTIVE, server_default="active")
    # Set when an operator adds or renames the category: the seed sync (service.sync_taxonomy) then leaves it be.
    operator_edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProductCategory(_Category, Base):
    __tablename__ = "product_categories"

    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product_categories.id"), index=True)


class ServiceCategory(_Category, Base):
    __tablename__ = "service_categories"

    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("service_categories.id"), index=True)
