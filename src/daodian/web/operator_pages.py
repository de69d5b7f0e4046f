"""The operator's console (operators land here): merchants in every state, the product and service category
trees with their codes and how much each holds, and the store promotions; beside the pages other domains
keep for operators (pending merchants, product -> service links, platform analytics), all in one menu
(templates/admin/_nav.html). Pages that read several domains at once, so they live in web/."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from daodian.accounts.authz import require_operator
from daodian.accounts.dependencies import PagePrincipal
from daodian.catalog.models import Product
from daodian.kit.api.http import DbSession
from daodian.kit.api.pagination import Paging
from daodian.kit.html.forms import login_redirect
from daodian.kit.html.rendering import render
from daodian.merchants import promotions
from daodian.merchants import service as merchants
from daodian.merchants.models import MerchantStatus, ServiceItem, Store
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import ProductCategory, ServiceCategory

router = APIRouter()

STATUSES = tuple(s.value for s in MerchantStatus)


def _operator(request: Request, principal) -> Response | None:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    return None


@router.get("/admin/merchants", response_class=HTMLResponse)
def all_merchants(request: Request, session: DbSession, principal: PagePrincipal, paging: Paging,
                  status: Annotated[str, Query(pattern="^(pending|active|suspended|closed)$")] = "active") -> Response:
    if (redirect := _operator(request, principal)) is not None:
        return redirect
    rows, cursor = merchants.list_merchants(session, principal, paging, MerchantStatus(status))
    counts = dict(session.execute(select(Store.merchant_id, func.count(Store.id))
                                  .where(Store.merchant_id.in_([m.id for m in rows])).group_by(Store.merchant_id)).all())
    return render(request, "admin/all_merchants.html", {
        "principal": principal, "merchants": rows, "next_cursor": cursor, "status": status, "statuses": STATUSES,
        "store_counts": counts})


def _flatten(nodes, depth: int = 0):
    for node in nodes:
        yield depth, node
        yield from _flatten(node.children, depth + 1)


@router.get("/admin/categories", response_class=HTMLResponse)
def categories(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if (redirect := _operator(request, principal)) is not None:
        return redirect
    products = dict(session.execute(select(ProductCategory.code, func.count(Product.id))
                                    .join(Product, Product.category_id == ProductCategory.id)
                                    .group_by(ProductCategory.code)).all())
    services = dict(session.execute(select(ServiceCategory.code, func.count(ServiceItem.id))
                                    .join(ServiceItem, ServiceItem.category_id == ServiceCategory.id)
                                    .group_by(ServiceCategory.code)).all())
    return render(request, "admin/categories.html", {
        "principal": principal,
        "product_tree": list(_flatten(taxonomy.category_tree(session, ProductCategory))), "product_counts": products,
        "service_tree": list(_flatten(taxonomy.category_tree(session, ServiceCategory))), "service_counts": services})


@router.get("/admin/promotions", response_class=HTMLResponse)
def store_promotions(request: Request, session: DbSession, principal: PagePrincipal, paging: Paging,
                     everything: Annotated[bool, Query(alias="all")] = False) -> Response:
    if (redirect := _operator(request, principal)) is not None:
        return redirect
    rows, cursor = promotions.list_promotions(session, principal, paging, store_id=None, include_inactive=everything)
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_({p.store_id for p in rows})))}
    return render(request, "admin/promotions.html", {
        "principal": principal, "promotions": rows, "stores": stores, "next_cursor": cursor, "everything": everything})
