from collections import defaultdict

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreCategory, StoreItem, StoreStatus


def merchants_query(*, statuses: list[MerchantStatus] | None) -> Select:
    stmt = select(Merchant)
    if statuses is not None:
        stmt = stmt.where(Merchant.status.in_(statuses))
    return stmt


def stores_query(*, merchant_id: int | None, category_ids: list[int] | None, public_only: bool) -> Select:
    stmt = select(Store)
    if merchant_id is not None:
        stmt = stmt.where(Store.merchant_id == merchant_id)
    if category_ids is not None:
        stmt = stmt.where(Store.id.in_(select(StoreCategory.store_id).where(StoreCategory.category_id.in_(category_ids))))
    if public_only:
        stmt = stmt.where(
            Store.status != StoreStatus.CLOSED,
            Store.merchant_id.in_(select(Merchant.id).where(Merchant.status == MerchantStatus.ACTIVE)),
        )
    return stmt


def category_ids_by_store(session: Session, store_ids: list[int]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    if store_ids:
        rows = session.execute(select(StoreCategory.store_id, StoreCategory.category_id)
                               .where(StoreCategory.store_id.in_(store_ids)))
        for store_id, category_id in rows:
            grouped[store_id].append(category_id)
    return grouped


def replace_store_categories(session: Session, store_id: int, category_ids: set[int]) -> None:
    session.execute(delete(StoreCategory).where(StoreCategory.store_id == store_id))
    session.add_all(StoreCategory(store_id=store_id, category_id=c) for c in sorted(category_ids))


def store_ids_by_item(session: Session, item_ids: list[int]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    if item_ids:
        rows = session.execute(select(StoreItem.item_id, StoreItem.store_id)
                               .where(StoreItem.item_id.in_(item_ids)).order_by(StoreItem.store_id))
        for item_id, store_id in rows:
            grouped[item_id].append(store_id)
    return grouped


def item_ids_at_store(session: Session, store_id: int) -> list[int]:
    return list(session.scalars(select(StoreItem.item_id).where(StoreItem.store_id == store_id)))


def replace_item_stores(session: Session, item_id: int, store_ids: set[int]) -> None:
    session.execute(delete(StoreItem).where(StoreItem.item_id == item_id))
    session.add_all(StoreItem(store_id=s, item_id=item_id) for s in sorted(store_ids))


def store_ids_of_merchant(session: Session, merchant_id: int, candidates: set[int]) -> set[int]:
    if not candidates:
        return set()
    return set(session.scalars(select(Store.id).where(Store.merchant_id == merchant_id, Store.id.in_(candidates))))


def merchants_by_ids(session: Session, ids: set[int]) -> dict[int, Merchant]:
    if not ids:
        return {}
    return {m.id: m for m in session.scalars(select(Merchant).where(Merchant.id.in_(ids)))}
