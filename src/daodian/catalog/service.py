"""Catalog rules: the category trees, products with SKUs, and service item definitions.

Which stores offer a service item is the merchants domain's concern (it knows stores).
"""

from sqlalchemy.orm import Session

from daodian.catalog import repository
from daodian.catalog.models import Product, Sku
from daodian.catalog.schemas import ProductCreate, ProductRead, ProductUpdate, SkuCreate, SkuRead, SkuUpdate
from daodian.kit.api.pagination import PageParams, fetch_page
from daodian.kit.clock import utcnow
from daodian.kit.errors import Conflict, NotFound
from daodian.taxonomy import repository as taxonomy_repository
from daodian.taxonomy.models import CatalogStatus, ProductCategory
from daodian.taxonomy.schemas import CategoryRead
from daodian.taxonomy.service import category, subtree_ids

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
    cats = taxonomy_repository.categories_by_ids(session, ProductCategory, {p.category_id for p in products})
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


