"""Consumer pages of the catalog: home, product and service categories, the product page (with the services
near you). Search is the search package's page."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import PagePrincipal
from daodian.catalog import service
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import Paging
from daodian.kit.errors import NotFound
from daodian.kit.html.rendering import render
from daodian.linkage import nearby_block
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import CatalogStatus, ProductCategory, ServiceCategory

router = APIRouter()

CategoryCodePath = Annotated[str, Path(max_length=64)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    return render(request, "home.html", {
        "principal": principal,
        "product_tree": taxonomy.category_tree(session, ProductCategory),
        "service_tree": taxonomy.category_tree(session, ServiceCategory),
    })


@router.get("/c/{code}", response_class=HTMLResponse)
def product_category(code: CategoryCodePath, request: Request, session: DbSession, principal: PagePrincipal,
                     paging: Paging) -> HTMLResponse:
    category = taxonomy.category_detail(session, ProductCategory, code)
    products, cursor = service.list_products(session, paging, category_code=code)
    return render(request, "product_category.html", {
        "principal": principal, "category": category, "products": products, "next_cursor": cursor,
    })


@router.get("/p/{product_id}", response_class=HTMLResponse)
def product(product_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    found = service.get_product(session, product_id)
    # The same rule as the API: hidden products only for the merchant's own staff.
    if found.status != CatalogStatus.ACTIVE and not principal.can(Action.CONSOLE_VIEW, found.merchant_id):
        raise NotFound("No such product.", code="product_not_found")
    read = service.product_reads(session, [found])[0]
    merchant = merchants.merchants_by_ids(session, {found.merchant_id}).get(found.merchant_id)
    near = nearby_block.near_from_query(request)
    return render(request, "product.html", {
        "principal": principal, "product": read, "merchant": merchant,
        "category": taxonomy.category_detail(session, ProductCategory, read.category.code),
        "services": nearby_block.services_near(request, session, found, near), "near": near,
    })


@router.get("/sc/{code}", response_class=HTMLResponse)
def service_category(code: CategoryCodePath, request: Request, session: DbSession, principal: PagePrincipal,
                     paging: Paging) -> HTMLResponse:
    category = taxonomy.category_detail(session, ServiceCategory, code)
    rows, cursor = stores.list_stores(session, paging, merchant_id=None, category_code=code, public_only=True)
    return render(request, "service_category.html", {
        "principal": principal, "category": category, "stores": rows, "next_cursor": cursor,
    })

