"""The category trees: synced from the seed (tree.py), read whole or by code, leaves checked; operators add,
rename, retire and re-activate categories (taxonomy.editing)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.kit.errors import Invalid, NotFound
from daodian.taxonomy import repository
from daodian.taxonomy.models import CategoryStatus, ProductCategory, ServiceCategory
from daodian.taxonomy.schemas import CategoryDetail, CategoryNode, CategoryRead
from daodian.taxonomy.tree import PRODUCT_TREE, SERVICE_TREE, walk


def sync_taxonomy(session: Session) -> int:
    """Upsert both category trees by code; returns how many rows were added or changed.

    It runs at every `daodian db upgrade` (so at each deploy, demo and test database), and operators edit the
    same rows from the console. So that their edits survive it: a row an operator added or renamed
    (`operator_edited_at` set) is left exactly as it is, and no row's `status` is ever touched, so a category
    an operator retired stays retired; rows the seed does not name (operators' own) are never deleted. The
    seed still adds what it names and nobody has yet.
    """
    changed = 0
    for model, tree in ((ProductCategory, PRODUCT_TREE), (ServiceCategory, SERVICE_TREE)):
        existing = {c.code: c for c in repository.all_categories(session, model)}
        for node, parent_code, level, order in walk(tree):
            parent_id = existing[parent_code].id if parent_code else None
            row = existing.get(node.code)
            values = dict(name_zh=node.name_zh, name_en=node.name_en, level=level, sort_order=order, parent_id=parent_id)
            if row is not None and row.operator_edited_at is not None:
                continue  # an operator's edit wins over the seed
            if row is None:
                row = model(code=node.code, **values)
                session.add(row)
                session.flush()
                existing[node.code] = row
                changed += 1
            elif any(getattr(row, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                changed += 1
    session.flush()
    return changed


def category_tree(session: Session, model: repository.CategoryModel) -> list[CategoryNode]:
    """The tree people pick from and browse: without retired categories, nor anything under one."""
    nodes: dict[int, CategoryNode] = {}
    roots: list[CategoryNode] = []
    for cat in repository.all_categories(session, model):  # parents come before their children (by level)
        if cat.status == CategoryStatus.RETIRED or (cat.parent_id is not None and cat.parent_id not in nodes):
            continue
        node = CategoryNode.model_validate(cat)
        nodes[cat.id] = node
        (nodes[cat.parent_id].children if cat.parent_id is not None else roots).append(node)
    return roots


def category(session: Session, model: repository.CategoryModel, code: str):
    found = repository.category_by_code(session, model, code)
    if found is None:
        kind = "product" if model is ProductCategory else "service"
        raise NotFound(f"There is no {kind} category '{code}'.", code="unknown_category")
    return found


def category_detail(session: Session, model: repository.CategoryModel, code: str) -> CategoryDetail:
    cat = category(session, model, code)
    parent = session.get(model, cat.parent_id) if cat.parent_id else None
    children = session.scalars(select(model).where(model.parent_id == cat.id).order_by(model.sort_order)).all()
    return CategoryDetail(
        **CategoryRead.model_validate(cat).model_dump(),
        parent=CategoryRead.model_validate(parent) if parent else None,
        children=[CategoryRead.model_validate(c) for c in children],
    )


def subtree_ids(session: Session, model: repository.CategoryModel, code: str) -> list[int]:
    cats = repository.all_categories(session, model)
    root = next((c for c in cats if c.code == code), None)
    if root is None:
        category(session, model, code)  # raises the not-found error
    ids, frontier = {root.id}, {root.id}
    while frontier:
        frontier = {c.id for c in cats if c.parent_id in frontier}
        ids |= frontier
    return sorted(ids)


def leaf_service_category(session: Session, code: str) -> ServiceCategory:
    cat = category(session, ServiceCategory, code)
    if cat.level < 2:
        raise Invalid(f"Pick a specific service such as '{code}.…', not the group '{code}'.", code="category_not_leaf")
    return cat


def service_categories_by_ids(session: Session, ids: set[int]) -> dict[int, ServiceCategory]:
    return repository.categories_by_ids(session, ServiceCategory, ids)
