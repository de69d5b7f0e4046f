"""Consumer pages of the catalog: home, product and service categories, the product page (with the services
near you). The search page is web.search_pages."""

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
from daodian.media import service as media
from daodian.media.models import OwnerKind
from daodian.merchants import service as merchants
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import CatalogStatus, ProductCategory, ServiceCategory
from daodian.web import listings

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
        "covers": media.covers_of(session, OwnerKind.PRODUCT, [p.id for p in products]),
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
def service_category(code: CategoryCodePath, request: Request, session: DbSession,
                     principal: PagePrincipal) -> HTMLResponse:
    """The stores offering a service: near the shopper when the page knows where they are (lat/lng), with
    the filter bar, the list and the map (web.listings)."""
    category = taxonomy.category_detail(session, ServiceCategory, code)
    query = listings.parse(request.query_params)
    rows = listings.listing(request, session, code, query)
    return render(request, "service_category.html", {
        "principal": principal, "category": category,
        **listings.page_context(f"/sc/{code}", {}, query, rows, request.app.state.settings),
    })

