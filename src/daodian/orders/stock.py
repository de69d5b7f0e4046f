"""SKU stock: reserved when an order is created, given back when it is cancelled or expires.

Reserving at creation (not at payment) means a consumer who reaches the payment page can always
pay; unpaid orders hold their units only until they expire (`DAODIAN_ORDER_PAYMENT_MINUTES`).
Refunds do not restock: whether returned goods can be sold again is the merchant's call.

Each reservation is one conditional UPDATE, so stock never goes below zero however many orders
race for the last unit; `stock IS NULL` means unlimited and is never touched.
"""

from sqlalchemy import update
from sqlalchemy.orm import Session

from daodian.catalog.models import Sku
from daodian.orders.errors import OutOfStock


def reserve(session: Session, quantities: dict[int, int]) -> None:
    """Take `quantity` units of each SKU or raise `out_of_stock` (the caller's transaction rolls back)."""
    for sku_id in sorted(quantities):  # one lock order for every transaction: no deadlocks on PostgreSQL
        quantity = quantities[sku_id]
        taken = session.execute(
            update(Sku).where(Sku.id == sku_id, (Sku.stock.is_(None)) | (Sku.stock >= quantity))
            .values(stock=Sku.stock - quantity).execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            raise OutOfStock(details={"sku_id": sku_id, "quantity": quantity})


def restore(session: Session, quantities: dict[int, int]) -> None:
    for sku_id in sorted(quantities):
        session.execute(update(Sku).where(Sku.id == sku_id, Sku.stock.is_not(None))
                        .values(stock=Sku.stock + quantities[sku_id]).execution_options(synchronize_session=False))


def set_stock(session: Session, sku: Sku, stock: int | None) -> Sku:
    sku.stock = stock
    session.flush()
    return sku
