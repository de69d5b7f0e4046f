"""An order line's name in the page's language. A line keeps the Chinese name it was sold under (what the
receipt said); an English page shows the service's or product's English name where one exists."""

from sqlalchemy.orm import Session

from daodian.orders import repository
from daodian.orders.schemas import OrderRead


def english_line_names(session: Session, orders: list[OrderRead]) -> dict[int, str]:
    """line id -> the English name of what it sold, for lines whose item or product has one."""
    lines = [line for order in orders for line in order.lines]
    items = repository.items(session, {ln.service_item_id for ln in lines if ln.service_item_id})
    skus = repository.skus_with_products(session, {ln.sku_id for ln in lines if ln.sku_id})
    names: dict[int, str] = {}
    for line in lines:
        if line.service_item_id and line.service_item_id in items and items[line.service_item_id].name_en:
            names[line.id] = items[line.service_item_id].name_en
        elif line.sku_id and line.sku_id in skus:
            sku, product = skus[line.sku_id]
            if product.name_en:
                names[line.id] = f"{product.name_en} {sku.spec_en}" if sku.spec_en else product.name_en
    return names


def english_item_names(session: Session, item_ids: set[int]) -> dict[int, str]:
    """service item id -> its English name, where it has one (vouchers are named after their item)."""
    return {item_id: item.name_en for item_id, item in repository.items(session, item_ids).items() if item.name_en}
