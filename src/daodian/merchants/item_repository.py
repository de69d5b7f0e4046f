
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from daodian.merchants.models import ServiceItem
from daodian.taxonomy.models import CatalogStatus


def items_query(*, merchant_id: int, include_hidden: bool) -> Select:
    stmt = select(ServiceItem).where(ServiceItem.merchant_id == merchant_id)
    if not include_hidden:
        stmt = stmt.where(ServiceItem.status == CatalogStatus.ACTIVE)
    return stmt


def items_by_ids(session: Session, ids: list[int]) -> list[ServiceItem]:
    if not ids:
        return []
    return list(session.scalars(select(ServiceItem).where(ServiceItem.id.in_(ids)).order_by(ServiceItem.id)))
