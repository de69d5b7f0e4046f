from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.catalog.models import Product, Sku
from daodian.taxonomy.models import CatalogStatus, ProductCategory, ServiceCategory

BATCH = 1000


class ProductText(NamedTuple):
    """What the index needs of a product: its words, its category, and whether it is offered."""

    id: int
    category_id: int
    name_zh: str
    name_en: str | None
    status: str
    updated_at: datetime
    specs: tuple[str, ...]


def categories(session: Session, model: type[ProductCategory] | type[ServiceCategory]) -> list:
    return list(session.scalars(select(model).order_by(model.level, model.sort_order, model.id)))


def newest_product_change(session: Session) -> datetime | None:
    return session.scalar(select(func.max(Product.updated_at)))


def _with_specs(session: Session, rows) -> list[ProductText]:
    specs: dict[int, list[str]] = defaultdict(list)
    ids = [r.id for r in rows]
    if ids:
        for product_id, spec_zh, spec_en in session.execute(
                select(Sku.product_id, Sku.spec_zh, Sku.spec_en)
                .where(Sku.product_id.in_(ids), Sku.status == CatalogStatus.ACTIVE).order_by(Sku.id)):
            specs[product_id].extend(s for s in (spec_zh, spec_en) if s)
    return [ProductText(r.id, r.category_id, r.name_zh, r.name_en, r.status, r.updated_at, tuple(specs[r.id]))
            for r in rows]


_COLUMNS = (Product.id, Product.category_id, Product.name_zh, Product.name_en, Product.status, Product.updated_at)


def active_products(session: Session) -> Iterator[list[ProductText]]:
    """Every offered product, in id batches (keyset), so a large catalogue is not read at once."""
    after = 0
    while True:
        rows = session.execute(select(*_COLUMNS).where(Product.status == CatalogStatus.ACTIVE, Product.id > after)
                               .order_by(Product.id).limit(BATCH)).all()
        if not rows:
            return
        yield _with_specs(session, rows)
        after = rows[-1].id


def products_changed_since(session: Session, since: datetime) -> list[ProductText]:
    rows = session.execute(select(*_COLUMNS).where(Product.updated_at >= since).order_by(Product.id)).all()
    return _with_specs(session, rows)


def active_products_by_ids(session: Session, ids: list[int]) -> list[Product]:
    """In the order given; products hidden since the index last looked are dropped here."""
    if not ids:
        return []
    found = {p.id: p for p in session.scalars(
        select(Product).where(Product.id.in_(ids), Product.status == CatalogStatus.ACTIVE))}
    return [found[i] for i in ids if i in found]
