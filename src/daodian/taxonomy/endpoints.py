"""The category trees over the API (public): products' and services', whole or by code."""

from typing import Annotated

from fastapi import APIRouter, Path

from daodian.kit.api.http import DbSession, access
from daodian.kit.api.scopes import declare
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from daodian.taxonomy.schemas import CATEGORY_CODE_PATTERN, CategoryDetail, CategoryNode

router = APIRouter(tags=["catalog"])
declare(router, "map:read")  # the scopes apps' tokens need here (kit.api.scopes)


CodePath = Annotated[str, Path(max_length=64, pattern=CATEGORY_CODE_PATTERN, examples=["auto.oil"])]


@router.get("/catalog/product-categories", response_model=list[CategoryNode], openapi_extra=access("public"))
def product_categories(session: DbSession) -> list[CategoryNode]:
    """The product category tree (level 1 > level 2)."""
    return taxonomy.category_tree(session, ProductCategory)


@router.get("/catalog/product-categories/{code}", response_model=CategoryDetail, openapi_extra=access("public"))
def product_category(code: CodePath, session: DbSession) -> CategoryDetail:
    return taxonomy.category_detail(session, ProductCategory, code)


@router.get("/catalog/service-categories", response_model=list[CategoryNode], openapi_extra=access("public"))
def service_categories(session: DbSession) -> list[CategoryNode]:
    """The service category tree; stores and service items use its level-2 codes."""
    return taxonomy.category_tree(session, ServiceCategory)


@router.get("/catalog/service-categories/{code}", response_model=CategoryDetail, openapi_extra=access("public"))
def service_category(code: CodePath, session: DbSession) -> CategoryDetail:
    return taxonomy.category_detail(session, ServiceCategory, code)
