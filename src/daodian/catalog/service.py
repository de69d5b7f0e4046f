"""Catalog rules: the category trees, products with SKUs, and service item definitions.

Which stores offer a service item is the merchants domain's concern (it knows stores).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.catalog import repository
from daodian.catalog.models import CatalogStatus, Product, ProductCategory, ServiceCategory, ServiceItem, Sku
from daodian.catalog.schemas import (
    CategoryDetail,
    CategoryNode,
    CategoryRead,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    ServiceItemCreate,
    ServiceItemUpdate,
    SkuCreate,
    SkuRead,
    SkuUpdate,
)
from daodian.catalog.taxonomy import PRODUCT_TREE, SERVICE_TREE, walk
from daodian.kit.clock import utcnow
from daodian.kit.errors import Conflict, Invalid, NotFound
from daodian.kit.pagination import PageParams, fetch_page


def sync_taxonomy(session: Session) -> int:
    """Upsert both category trees by code; returns how many rows were added or changed."""
    changed = 0
    for model, tree in ((ProductCategory, PRODUCT_TREE), (ServiceCategory, SERVICE_TREE)):
        existing = {c.code: c for c in repository.all_categories(session, model)}
        for node, parent_code, level, order in walk(tree):
            parent_id = existing[parent_code].id if parent_code else None
            row = existing.get(node.code)
            values = dict(name_zh=node.name_zh, name_en=node.name_en, level=level, sort_order=order, parent_id=parent_id)
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
    nodes: dict[int, CategoryNode] = {}
    roots: list[CategoryNode] = []
    for cat in repository.all_categories(session, model):
        node = CategoryNode.model_validate(cat)
        nodes[cat.id] = node
        (nodes[cat.parent_id].children if cat.parent_id in nodes else roots).append(node)
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


# --- products -------------------------------------------------------------------------------


def create_product(session: Session, merchant_id: int, data: ProductCreate) -> Product:
    cat = category(session, ProductCategory, data.category)
    product = Product(merchant_id=merchant_id, category_id=cat.id, name_zh=data.name_zh.strip(), name_en=data.name_en,
                      description=data.description)
    session.add(product)
    session.flush()
    for sku in data.skus:
        session.add(_new_sku(product.id, sku))
    session.flush()
    return product


def _new_sku(product_id: int, data: SkuCreate) -> Sku:
    return Sku(product_id=product_id, code=data.code, spec_zh=data.spec_zh, spec_en=data.spec_en, price_fen=data.price_fen)


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("No such product.", code="product_not_found")
    return product


def update_product(session: Session, product: Product, data: ProductUpdate) -> Product:
    changes = data.model_dump(exclude_unset=True)
    if "category" in changes:
        product.category_id = category(session, ProductCategory, changes.pop("category")).id
    for key, value in changes.items():
        if key in ("name_zh", "description", "status") and value is None:
            continue
        setattr(product, key, value)
    session.flush()
    return product


def add_sku(session: Session, product: Product, data: SkuCreate) -> Sku:
    if any(s.code == data.code for s in repository.skus_by_product(session, [product.id])[product.id]):
        raise Conflict(f"SKU code '{data.code}' is already used in this product.", code="sku_code_taken")
    sku = _new_sku(product.id, data)
    session.add(sku)
    product.updated_at = utcnow()  # SKUs are part of the product: per-process indexes poll updated_at
    session.flush()
    return sku


def get_sku(session: Session, sku_id: int) -> Sku:
    sku = session.get(Sku, sku_id)
    if sku is None:
        raise NotFound("No such SKU.", code="sku_not_found")
    return sku


def update_sku(session: Session, sku: Sku, data: SkuUpdate) -> Sku:
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None or key == "spec_en":
            setattr(sku, key, value)
    session.get(Product, sku.product_id).updated_at = utcnow()  # see add_sku
    session.flush()
    return sku


def product_reads(session: Session, products: list[Product]) -> list[ProductRead]:
    """Build API views for many products with two extra queries, whatever their number."""
    skus = repository.skus_by_product(session, [p.id for p in products])
    cats = repository.categories_by_ids(session, ProductCategory, {p.category_id for p in products})
    reads = []
    for p in products:
        active = [s.price_fen for s in skus[p.id] if s.status == CatalogStatus.ACTIVE]
        reads.append(ProductRead(
            id=p.id, merchant_id=p.merchant_id, category=CategoryRead.model_validate(cats[p.category_id]),
            name_zh=p.name_zh, name_en=p.name_en, description=p.description, status=p.status,
            price_from_fen=min(active) if active else None,
            skus=[SkuRead.model_validate(s) for s in skus[p.id]],
        ))
    return reads


def list_products(session: Session, params: PageParams, *, category_code: str | None = None,
                  merchant_id: int | None = None, text: str | None = None,
                  include_hidden: bool = False) -> tuple[list[ProductRead], str | None]:
    category_ids = subtree_ids(session, ProductCategory, category_code) if category_code else None
    stmt = repository.products_query(category_ids=category_ids, merchant_id=merchant_id, text=text,
                                     include_hidden=include_hidden)
    rows, cursor = fetch_page(session, stmt, Product.id, params)
    return product_reads(session, rows), cursor


# --- service items --------------------------------------------------------------------------


def create_item(session: Session, merchant_id: int, data: ServiceItemCreate) -> ServiceItem:
    cat = leaf_service_category(session, data.service_category)
    item = ServiceItem(merchant_id=merchant_id, category_id=cat.id, name_zh=data.name_zh.strip(), name_en=data.name_en,
                       description=data.description, price_fen=data.price_fen, duration_min=data.duration_min)
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
    return fetch_page(session, repository.items_query(merchant_id=merchant_id, include_hidden=include_hidden),
                      ServiceItem.id, params)


def items_by_ids(session: Session, ids: list[int]) -> list[ServiceItem]:
    return repository.items_by_ids(session, ids)


def service_categories_by_ids(session: Session, ids: set[int]) -> dict[int, ServiceCategory]:
    return repository.categories_by_ids(session, ServiceCategory, ids)
