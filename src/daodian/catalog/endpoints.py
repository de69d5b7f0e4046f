from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from daodian.accounts.authz import Action, Principal
from daodian.accounts.dependencies import ApiPrincipal, LoggedIn
from daodian.catalog import service
from daodian.catalog.schemas import ProductCreate, ProductRead, ProductUpdate, SkuCreate, SkuRead, SkuUpdate
from daodian.kit.api.http import DbSession, ObjectId, QueryId, access
from daodian.kit.api.pagination import Page, Paging
from daodian.kit.api.scopes import declare
from daodian.kit.errors import NotFound
from daodian.kit.schemas import NO_NUL_PATTERN
from daodian.merchants import service as merchants
from daodian.taxonomy.models import CatalogStatus
from daodian.taxonomy.schemas import CATEGORY_CODE_PATTERN

router = APIRouter(tags=["catalog"])
declare(router, "catalog:read", "catalog:write")  # the scopes apps' tokens need here (kit.api.scopes)
CodeQuery = Annotated[str | None, Query(max_length=64, pattern=CATEGORY_CODE_PATTERN,
                                        description="Category code (and below).")]


def _product_visible(principal: Principal, product) -> bool:
    return product.status == CatalogStatus.ACTIVE or principal.can(Action.CONSOLE_VIEW, product.merchant_id)


@router.get("/products", response_model=Page[ProductRead], openapi_extra=access("public"))
def list_products(session: DbSession, paging: Paging,
                  category: CodeQuery = None,
                  merchant_id: QueryId = None,
                  q: Annotated[str | None, Query(max_length=100, pattern=NO_NUL_PATTERN, description="Words in the name.")] = None,
                  ) -> Page[ProductRead]:
    rows, cursor = service.list_products(session, paging, category_code=category, merchant_id=merchant_id,
                                         text=(q or "").strip() or None)
    return Page(items=rows, next_cursor=cursor)


@router.post("/merchants/{merchant_id:int}/products", status_code=status.HTTP_201_CREATED, response_model=ProductRead,
             openapi_extra=access("merchant:catalog.manage"))
def create_product(merchant_id: ObjectId, body: ProductCreate, session: DbSession, principal: LoggedIn) -> ProductRead:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    return service.product_reads(session, [service.create_product(session, merchant.id, body)])[0]


@router.get("/products/{product_id:int}", response_model=ProductRead, openapi_extra=access("public"))
def get_product(product_id: ObjectId, session: DbSession, principal: ApiPrincipal) -> ProductRead:
    product = service.get_product(session, product_id)
    if not _product_visible(principal, product):
        raise NotFound("No such product.", code="product_not_found")
    return service.product_reads(session, [product])[0]


def _managed_product(session, principal, product_id: int):
    product = service.get_product(session, product_id)
    merchants.managed_merchant(session, principal, product.merchant_id, Action.CATALOG_MANAGE)
    return product


@router.patch("/products/{product_id:int}", response_model=ProductRead, openapi_extra=access("merchant:catalog.manage"))
def update_product(product_id: ObjectId, body: ProductUpdate, session: DbSession, principal: LoggedIn) -> ProductRead:
    product = service.update_product(session, _managed_product(session, principal, product_id), body)
    return service.product_reads(session, [product])[0]


@router.delete("/products/{product_id:int}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("merchant:catalog.manage"))
def hide_product(product_id: ObjectId, session: DbSession, principal: LoggedIn) -> Response:
    """Stop selling a product; it stays in past orders."""
    service.update_product(session, _managed_product(session, principal, product_id),
                           ProductUpdate(status=CatalogStatus.HIDDEN))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/products/{product_id:int}/skus", status_code=status.HTTP_201_CREATED, response_model=SkuRead,
             openapi_extra=access("merchant:catalog.manage"))
def add_sku(product_id: ObjectId, body: SkuCreate, session: DbSession, principal: LoggedIn) -> SkuRead:
    return SkuRead.model_validate(service.add_sku(session, _managed_product(session, principal, product_id), body))


@router.patch("/skus/{sku_id:int}", response_model=SkuRead, openapi_extra=access("merchant:catalog.manage"))
def update_sku(sku_id: ObjectId, body: SkuUpdate, session: DbSession, principal: LoggedIn) -> SkuRead:
    sku = service.get_sku(session, sku_id)
    _managed_product(session, principal, sku.product_id)
    return SkuRead.model_validate(service.update_sku(session, sku, body))


