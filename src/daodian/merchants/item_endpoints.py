"""Service item routes: a merchant's items, which of its stores offer them, hiding one."""


from fastapi import APIRouter, Response, status

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import ApiPrincipal, LoggedIn
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.pagination import Page, Paging
from daodian.kit.api.scopes import declare
from daodian.kit.errors import NotFound
from daodian.merchants import service as merchants
from daodian.merchants import service_items, stores
from daodian.merchants.item_schemas import ServiceItemCreate, ServiceItemRead, ServiceItemUpdate
from daodian.taxonomy.models import CatalogStatus

router = APIRouter(tags=["catalog"])
declare(router, "catalog:read", "catalog:write")  # the scopes apps' tokens need here (kit.api.scopes)


@router.get("/merchants/{merchant_id:int}/service-items", response_model=Page[ServiceItemRead],
            openapi_extra=access("public"))
def list_items(merchant_id: ObjectId, session: DbSession, principal: ApiPrincipal, paging: Paging) -> Page[ServiceItemRead]:
    """A merchant's service items; its staff also see hidden ones."""
    merchant = merchants.visible_merchant(session, principal, merchant_id)
    rows, cursor = service_items.items_page(session, merchant.id, paging,
                                      include_hidden=principal.can(Action.CONSOLE_VIEW, merchant.id))
    return Page(items=stores.item_reads(session, rows), next_cursor=cursor)


@router.post("/merchants/{merchant_id:int}/service-items", status_code=status.HTTP_201_CREATED,
             response_model=ServiceItemRead, openapi_extra=access("merchant:catalog.manage"))
def create_item(merchant_id: ObjectId, body: ServiceItemCreate, session: DbSession,
                principal: LoggedIn) -> ServiceItemRead:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    item = service_items.create_item(session, merchant.id, body)
    stores.set_item_stores(session, item, body.store_ids)
    return stores.item_reads(session, [item])[0]


@router.get("/service-items/{item_id:int}", response_model=ServiceItemRead, openapi_extra=access("public"))
def get_item(item_id: ObjectId, session: DbSession, principal: ApiPrincipal) -> ServiceItemRead:
    item = service_items.get_item(session, item_id)
    merchants.visible_merchant(session, principal, item.merchant_id)
    if item.status != CatalogStatus.ACTIVE and not principal.can(Action.CONSOLE_VIEW, item.merchant_id):
        raise NotFound("No such service item.", code="service_item_not_found")
    return stores.item_reads(session, [item])[0]


def _managed_item(session, principal, item_id: int):
    item = service_items.get_item(session, item_id)
    merchants.managed_merchant(session, principal, item.merchant_id, Action.CATALOG_MANAGE)
    return item


@router.patch("/service-items/{item_id:int}", response_model=ServiceItemRead,
              openapi_extra=access("merchant:catalog.manage"))
def update_item(item_id: ObjectId, body: ServiceItemUpdate, session: DbSession, principal: LoggedIn) -> ServiceItemRead:
    item = service_items.update_item(session, _managed_item(session, principal, item_id), body)
    if body.store_ids is not None:
        stores.set_item_stores(session, item, body.store_ids)
    return stores.item_reads(session, [item])[0]


@router.delete("/service-items/{item_id:int}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("merchant:catalog.manage"))
def hide_item(item_id: ObjectId, session: DbSession, principal: LoggedIn) -> Response:
    service_items.update_item(session, _managed_item(session, principal, item_id), ServiceItemUpdate(status=CatalogStatus.HIDDEN))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
