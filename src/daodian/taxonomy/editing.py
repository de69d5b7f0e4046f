"""Operators manage the category trees: add a category under a group (or a new group), rename one, retire one
and bring it back. Codes never change once published; a retired category leaves the trees people pick from
and browse (service.category_tree), while what is already filed under it keeps it.

Every edit stamps `operator_edited_at`, which makes the seed sync (service.sync_taxonomy) leave the row alone.
"""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal, require_operator
from daodian.kit.clock import utcnow
from daodian.kit.errors import Conflict, Invalid
from daodian.taxonomy import repository
from daodian.taxonomy.models import CategoryStatus
from daodian.taxonomy.schemas import CategoryCreate, CategoryRename
from daodian.taxonomy.service import category

MAX_LEVEL = 2  # groups and the categories in them: stores, items and links are filed under level 2


def create_category(session: Session, principal: Principal, model: repository.CategoryModel, data: CategoryCreate):
    require_operator(principal)
    parent = category(session, model, data.parent) if data.parent else None
    if parent is not None and parent.level >= MAX_LEVEL:
        raise Invalid(f"Categories go at most {MAX_LEVEL} levels deep; pick a group as the parent.",
                      code="category_too_deep")
    if parent is not None and parent.status == CategoryStatus.RETIRED:
        raise Conflict("The parent category is retired; re-activate it first.", code="category_parent_retired")
    head, _, last = data.code.rpartition(".")
    if (parent is None and head) or (parent is not None and (head != parent.code or not last)):
        raise Invalid("A group's code has no dot; a category's is its group's code, a dot and one more part.",
                      code="category_code_outside_parent")
    if repository.category_by_code(session, model, data.code) is not None:
        raise Conflict(f"The code '{data.code}' is taken.", code="category_code_taken")
    parent_id = parent.id if parent is not None else None
    last_order = session.scalar(select(func.max(model.sort_order)).where(
        model.parent_id == parent_id if parent_id is not None else model.parent_id.is_(None)))
    row = model(code=data.code, name_zh=data.name_zh, name_en=data.name_en, parent_id=parent_id,
                level=parent.level + 1 if parent is not None else 1, sort_order=(last_order or 0) + 1,
                status=CategoryStatus.ACTIVE, operator_edited_at=utcnow())
    try:
        with session.begin_nested():  # another operator may take the code at the same moment (unique code)
            session.add(row)
    except IntegrityError:
        raise Conflict(f"The code '{data.code}' is taken.", code="category_code_taken") from None
    return row


def rename_category(session: Session, principal: Principal, model: repository.CategoryModel, code: str,
                    data: CategoryRename):
    require_operator(principal)
    row = category(session, model, code)
    row.name_zh, row.name_en, row.operator_edited_at = data.name_zh, data.name_en, utcnow()
    session.flush()
    return row


def set_status(session: Session, principal: Principal, model: repository.CategoryModel, code: str,
               status: CategoryStatus):
    """Retire or re-activate (idempotent). A category inside a retired group comes back only with its group."""
    require_operator(principal)
    row = category(session, model, code)
    if status == CategoryStatus.ACTIVE and row.parent_id is not None:
        parent = session.get(model, row.parent_id)
        if parent.status == CategoryStatus.RETIRED:
            raise Conflict("The parent category is retired; re-activate it first.", code="category_parent_retired")
    if row.status != status:
        row.status, row.operator_edited_at = status, utcnow()
        session.flush()
    return row
