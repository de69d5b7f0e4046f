"""Who manages the photos of a product: its merchant's staff (media asks through this)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.catalog.models import Product
from daodian.media.owners import Owner


def product_owner(session: Session, product_id: int) -> Owner | None:
    merchant_id = session.scalar(select(Product.merchant_id).where(Product.id == product_id))
    return None if merchant_id is None else Owner(merchant_id=merchant_id)
