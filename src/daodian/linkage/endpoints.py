from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from daodian.accounts.dependencies import ApiPrincipal
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.pagination import Page, Paging
from daodian.kit.api.scopes import declare
from daodian.linkage import service
from daodian.linkage.models import LinkSource, LinkStatus
from daodian.linkage.nearest import NearParams, store_finder
from daodian.linkage.schemas import LinkCreate, LinkRead, LinkUpdate, ProductServices

router = APIRouter(tags=["linkage"])
declare(router, "map:read")  # the scopes apps' tokens need here (kit.api.scopes)


@router.get("/products/{product_id}/services", response_model=ProductServices, openapi_extra=access("public"))
def product_services(product_id: ObjectId, request: Request, session: DbSession, principal: ApiPrincipal,
                     near: NearParams,
                     limit_per_service: Annotated[int, Query(ge=1, le=20, description="Stores per service.")] = 3,
                     ) -> ProductServices:
    """The local services that complete this product, strongest link first, each with the nearest
    well-ranked stores when `lat`/`lng` are given."""
    product = service.visible_product(session, principal, product_id)
    return service.services_for_product(session, product, find_stores=store_finder(request, session, near),
                                        limit_per_service=limit_per_service)


@router.get("/admin/links", response_model=Page[LinkRead], openapi_extra=access("operator"))
def list_links(session: DbSession, principal: ApiPrincipal, paging: Paging,
               status_: Annotated[LinkStatus | None, Query(alias="status")] = None,
               source: LinkSource | None = None,
               product_category: Annotated[str | None, Query(max_length=64, description="Product category code.")] = None,
               service_category: Annotated[str | None, Query(max_length=64, description="Service category code.")] = None,
               ) -> Page[LinkRead]:
    """Product -> service links, e.g. mined candidates waiting for review (`status=candidate`)."""
    rows, cursor = service.list_links(session, principal, paging, status=status_, source=source,
                                      product_category=product_category, service_category=service_category)
    return Page(items=rows, next_cursor=cursor)


@router.post("/admin/links", status_code=status.HTTP_201_CREATED, response_model=LinkRead,
             openapi_extra=access("operator"))
def create_link(body: LinkCreate, session: DbSession, principal: ApiPrincipal) -> LinkRead:
    """Add a curated link; a level-1 product category covers all its children."""
    return service.link_reads(session, [service.create_link(session, principal, body)])[0]


@router.patch("/admin/links/{link_id}", response_model=LinkRead, openapi_extra=access("operator"))
def update_link(link_id: ObjectId, body: LinkUpdate, session: DbSession, principal: ApiPrincipal) -> LinkRead:
    """Make a link live, reject it, or change its strength; the seed sync will not undo this."""
    link = service.get_link(session, principal, link_id)
    return service.link_reads(session, [service.update_link(session, principal, link, body)])[0]
