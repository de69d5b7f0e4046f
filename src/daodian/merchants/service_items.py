"""Service items: what a merchant sells to be consumed at its stores (or at home), defined once per merchant."""

from sqlalchemy.orm import Session

from daodian.kit.api.pagination import PageParams, fetch_page
from daodian.kit.errors import NotFound
from daodian.merchants import item_repository
from daodian.merchants.item_schemas import ServiceItemCreate, ServiceItemUpdate
from daodian.merchants.models import ServiceItem
from daodian.taxonomy.service import leaf_service_category


def create_item(session: Session, merchant_id: int, data: ServiceItemCreate) -> ServiceItem:
    cat = leaf_service_category(session, data.service_category)
    item = ServiceItem(merchant_id=merchant_id, category_id=cat.id, name_zh=data.name_zh.strip(), name_en=data.name_en,
                       description=data.description, price_fen=data.price_fen, duration_min=data.duration_min,
                       at_home=data.at_home)
    session.add(item)
    session.flush()
    return item


def get_item(session: Session, item_id: int) -> ServiceItem:
    item = session.get(ServiceItem, item_id)
    if item is None:
        raise NotFound("No such service item.", code="service_item_not_found")
    return item


def update_item(session: Session, item: ServiceItem, data: ServiceItemUpdate) -> ServiceItem:
    changes = data.model_dump(exclude_unset=True, exclude={"store_ids"})
    if "service_category" in changes:
        code = changes.pop("service_category")
        if code is not None:
            item.category_id = leaf_service_category(session, code).id
    for key, value in changes.items():
        if value is not None or key == "name_en":
            setattr(item, key, value)
    session.flush()
    return item


def items_page(session: Session, merchant_id: int, params: PageParams, *, include_hidden: bool):
    return fetch_page(session, item_repository.items_query(merchant_id=merchant_id, include_hidden=include_hidden),
                      ServiceItem.id, params)


def items_by_ids(session: Session, ids: list[int]) -> list[ServiceItem]:
    return item_repository.items_by_ids(session, ids)
