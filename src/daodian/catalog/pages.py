"""Consumer pages of the catalog: home, product and service categories, product page, simple search."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import PagePrincipal
from daodian.catalog import service
from daodian.catalog.models import CatalogStatus, ProductCategory, ServiceCategory
from daodian.catalog.schemas import CategoryNode
from daodian.kit.errors import NotFound
from daodian.kit.http import DbSession, ObjectId
from daodian.kit.pagination import PageParams, Paging
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.web.rendering import render

router = APIRouter()

CategoryCodePath = Annotated[str, Path(max_length=64)]
SEARCH_LIMIT = 20


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    return render(request, "home.html", {
        "principal": principal,
        "product_tree": service.category_tree(session, ProductCategory),
        "service_tree": service.category_tree(session, ServiceCategory),
    })


@router.get("/c/{code}", response_class=HTMLResponse)
def product_category(code: CategoryCodePath, request: Request, session: DbSession, principal: PagePrincipal,
                     paging: Paging) -> HTMLResponse:
    category = service.category_detail(session, ProductCategory, code)
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
    return render(request, "product.html", {
        "principal": principal, "product": read, "merchant": merchant,
        "category": service.category_detail(session, ProductCategory, read.category.code),
    })


@router.get("/sc/{code}", response_class=HTMLResponse)
def service_category(code: CategoryCodePath, request: Request, session: DbSession, principal: PagePrincipal,
                     paging: Paging) -> HTMLResponse:
    category = service.category_detail(session, ServiceCategory, code)
    rows, cursor = stores.list_stores(session, paging, merchant_id=None, category_code=code, public_only=True)
    return render(request, "service_category.html", {
        "principal": principal, "category": category, "stores": rows, "next_cursor": cursor,
    })


def _matching_categories(tree: list[CategoryNode], words: str) -> list[CategoryNode]:
    """Service categories whose Chinese or English name contains the words (a stopgap before real search)."""
    needle = words.casefold()
    found, stack = [], list(tree)
    while stack:
        node = stack.pop(0)
        if needle in node.name_zh.casefold() or needle in node.name_en.casefold():
            found.append(node)
        stack.extend(node.children)
    return found


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, session: DbSession, principal: PagePrincipal,
           q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    words = q.strip()
    products, categories = [], []
    if words:
        products, _ = service.list_products(session, PageParams(limit=SEARCH_LIMIT, after_id=None), text=words)
        categories = _matching_categories(service.category_tree(session, ServiceCategory), words)
    return render(request, "search.html", {
        "principal": principal, "q": words, "products": products, "service_categories": categories,
    })
