from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.taxonomy.models import ProductCategory, ServiceCategory


def links_query(*, status: LinkStatus | None, source: LinkSource | None, product_category_id: int | None,
                service_category_id: int | None) -> Select:
    stmt = select(CategoryLink)
    if status is not None:
        stmt = stmt.where(CategoryLink.status == status)
    if source is not None:
        stmt = stmt.where(CategoryLink.source == source)
    if product_category_id is not None:
        stmt = stmt.where(CategoryLink.product_category_id == product_category_id)
    if service_category_id is not None:
        stmt = stmt.where(CategoryLink.service_category_id == service_category_id)
    return stmt


def links_by_source(session: Session, source: LinkSource) -> list[CategoryLink]:
    return list(session.scalars(select(CategoryLink).where(CategoryLink.source == source).order_by(CategoryLink.id)))


def find_link(session: Session, product_category_id: int, service_category_id: int,
              source: LinkSource) -> CategoryLink | None:
    return session.scalar(select(CategoryLink).where(
        CategoryLink.product_category_id == product_category_id,
        CategoryLink.service_category_id == service_category_id,
        CategoryLink.source == source,
    ))


def live_links(session: Session, product_category_ids: Iterable[int]) -> list[CategoryLink]:
    ids = set(product_category_ids)
    if not ids:
        return []
    return list(session.scalars(select(CategoryLink).where(
        CategoryLink.product_category_id.in_(ids), CategoryLink.status == LinkStatus.LIVE,
    ).order_by(CategoryLink.id)))


def categories_by_code(session: Session, model: type[ProductCategory] | type[ServiceCategory]) -> dict[str, object]:
    return {c.code: c for c in session.scalars(select(model))}


def product_categories_by_ids(session: Session, ids: set[int]) -> dict[int, ProductCategory]:
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(ProductCategory).where(ProductCategory.id.in_(ids)))}


def with_ancestors(session: Session, product_category_ids: Iterable[int]) -> dict[int, ProductCategory]:
    """The given product categories and every category above them, by id (one query per level)."""
    found: dict[int, ProductCategory] = {}
    frontier = set(product_category_ids)
    while frontier:
        rows = session.scalars(select(ProductCategory).where(ProductCategory.id.in_(frontier))).all()
        found.update((c.id, c) for c in rows)
        frontier = {c.parent_id for c in rows if c.parent_id is not None} - found.keys()
    return found
