from collections import defaultdict

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from daodian.catalog.models import Product, Sku
from daodian.taxonomy.models import CatalogStatus


def skus_by_product(session: Session, product_ids: list[int]) -> dict[int, list[Sku]]:
    grouped: dict[int, list[Sku]] = defaultdict(list)
    if product_ids:
        for sku in session.scalars(select(Sku).where(Sku.product_id.in_(product_ids)).order_by(Sku.id)):
            grouped[sku.product_id].append(sku)
    return grouped


def products_query(*, category_ids: list[int] | None, merchant_id: int | None, text: str | None,
                   include_hidden: bool) -> Select:
    stmt = select(Product)
    if category_ids is not None:
        stmt = stmt.where(Product.category_id.in_(category_ids))
    if merchant_id is not None:
        stmt = stmt.where(Product.merchant_id == merchant_id)
    if text:
        # The words are literal: a typed % or _ must not act as a wildcard.
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(or_(Product.name_zh.like(pattern, escape="\\"),
                              Product.name_en.ilike(pattern, escape="\\")))
    if not include_hidden:
        stmt = stmt.where(Product.status == CatalogStatus.ACTIVE)
    return stmt


