"""Who manages the photos of a store or a service item: its merchant's staff (media asks through this)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.media.owners import Owner
from daodian.merchants.models import ServiceItem, Store


def store_owner(session: Session, store_id: int) -> Owner | None:
    merchant_id = session.scalar(select(Store.merchant_id).where(Store.id == store_id))
    return None if merchant_id is None else Owner(merchant_id=merchant_id)


def service_item_owner(session: Session, item_id: int) -> Owner | None:
    merchant_id = session.scalar(select(ServiceItem.merchant_id).where(ServiceItem.id == item_id))
    return None if merchant_id is None else Owner(merchant_id=merchant_id)
