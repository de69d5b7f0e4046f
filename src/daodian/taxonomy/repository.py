
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.taxonomy.models import ProductCategory, ServiceCategory

CategoryModel = type[ProductCategory] | type[ServiceCategory]


def all_categories(session: Session, model: CategoryModel) -> list:
    return list(session.scalars(select(model).order_by(model.level, model.sort_order, model.id)))


def category_by_code(session: Session, model: CategoryModel, code: str):
    return session.scalar(select(model).where(model.code == code))


def categories_by_ids(session: Session, model: CategoryModel, ids: set[int]) -> dict[int, object]:
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(model).where(model.id.in_(ids)))}


def edits_stamp(session: Session) -> tuple:
    """What changes whenever an operator edits either tree: each tree's size and its latest edit
    (taxonomy.editing stamps operator_edited_at on every add, rename, retirement and return)."""
    return tuple(tuple(session.execute(select(func.count(), func.max(model.operator_edited_at))).one())
                 for model in (ProductCategory, ServiceCategory))
