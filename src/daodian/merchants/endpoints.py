from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from daodian.accounts import service as accounts
from daodian.accounts.authz import Action
from daodian.accounts.dependencies import ApiPrincipal, LoggedIn
from daodian.accounts.schemas import StaffIn, StaffRead
from daodian.kit.api.http import DbSession, ObjectId, QueryId, access
from daodian.kit.api.pagination import Page, Paging
from daodian.kit.api.scopes import declare
from daodian.kit.errors import ErrorEnvelope
from daodian.merchants import service, stores
from daodian.merchants.models import MerchantStatus
from daodian.merchants.schemas import (
    MerchantCreate,
    MerchantRead,
    MerchantUpdate,
    OpeningHours,
    StoreCreate,
    StoreDetail,
    StoreRead,
    StoreUpdate,
)
from daodian.taxonomy.schemas import CATEGORY_CODE_PATTERN

router = APIRouter(tags=["merchants"])
declare(router, "catalog:read", "catalog:write")  # the scopes apps' tokens need here (kit.api.scopes)


@router.get("/merchants", response_model=Page[MerchantRead], openapi_extra=access("public"))
def list_merchants(session: DbSession, principal: ApiPrincipal, paging: Paging,
                   status_: Annotated[MerchantStatus | None, Query(alias="status")] = None) -> Page[MerchantRead]:
    """Active merchants; operators may list other statuses."""
    rows, cursor = service.list_merchants(session, principal, paging, status_)
    return Page(items=[service.merchant_read(m) for m in rows], next_cursor=cursor)


@router.post("/merchants", status_code=status.HTTP_201_CREATED, response_model=MerchantRead,
             openapi_extra=access("authenticated"))
def create_merchant(body: MerchantCreate, session: DbSession, principal: LoggedIn) -> MerchantRead:
    """Sign a business up; the caller becomes its owner. It is listed once an operator approves it."""
    return service.merchant_read(service.create_merchant(session, principal, body))


@router.get("/merchants/{merchant_id:int}", response_model=MerchantRead, openapi_extra=access("public"))
def get_merchant(merchant_id: ObjectId, session: DbSession, principal: ApiPrincipal) -> MerchantRead:
    return service.merchant_read(service.visible_merchant(session, principal, merchant_id))


@router.patch("/merchants/{merchant_id:int}", response_model=MerchantRead,
              openapi_extra=access("merchant:merchant.update"))
def update_merchant(merchant_id: ObjectId, body: MerchantUpdate, session: DbSession, principal: LoggedIn) -> MerchantRead:
    merchant = service.managed_merchant(session, principal, merchant_id, Action.MERCHANT_UPDATE)
    return service.merchant_read(service.update_merchant(session, principal, merchant, body))


@router.delete("/merchants/{merchant_id:int}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("merchant:merchant.delete"))
def close_merchant(merchant_id: ObjectId, session: DbSession, principal: LoggedIn) -> Response:
    """Close the business: it and its stores stop being listed; history is kept."""
    service.close_merchant(session, service.managed_merchant(session, principal, merchant_id, Action.MERCHANT_DELETE))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- staff ------------------------------------------------------------------------------------


def _staff_read(membership, user) -> StaffRead:
    return StaffRead(user_id=user.id, display_name=user.display_name, phone=user.phone, role=membership.role)


@router.get("/merchants/{merchant_id:int}/staff", response_model=list[StaffRead],
            openapi_extra=access("merchant:console.view"))
def list_staff(merchant_id: ObjectId, session: DbSession, principal: LoggedIn) -> list[StaffRead]:
    merchant = service.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    return [_staff_read(m, u) for m, u in accounts.staff_list(session, merchant.id)]


@router.post("/merchants/{merchant_id:int}/staff", status_code=status.HTTP_201_CREATED, response_model=StaffRead,
             openapi_extra=access("merchant:staff.manage"))
def add_staff(merchant_id: ObjectId, body: StaffIn, session: DbSession, principal: LoggedIn) -> StaffRead:
    """Give a registered account a role at this merchant (or change its role)."""
    merchant = service.managed_merchant(session, principal, merchant_id, Action.STAFF_MANAGE)
    return _staff_read(*accounts.add_staff(session, merchant_id=merchant.id, phone=body.phone, role=body.role))


@router.delete("/merchants/{merchant_id:int}/staff/{user_id:int}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("merchant:staff.manage"))
def remove_staff(merchant_id: ObjectId, user_id: ObjectId, session: DbSession, principal: LoggedIn) -> Response:
    merchant = service.managed_merchant(session, principal, merchant_id, Action.STAFF_MANAGE)
    accounts.remove_staff(session, merchant_id=merchant.id, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- stores -----------------------------------------------------------------------------------


@router.get("/stores", response_model=Page[StoreRead], openapi_extra=access("public"))
def list_stores(session: DbSession, paging: Paging,
                merchant_id: QueryId = None,
                service_category: Annotated[str | None, Query(max_length=64, pattern=CATEGORY_CODE_PATTERN)] = None,
                ) -> Page[StoreRead]:
    """Listed stores, optionally of one merchant or providing a service category (or any in its group)."""
    rows, cursor = stores.list_stores(session, paging, merchant_id=merchant_id, category_code=service_category,
                                      public_only=True)
    return Page(items=rows, next_cursor=cursor)


@router.get("/merchants/{merchant_id:int}/stores", response_model=Page[StoreRead],
            openapi_extra=access("merchant:console.view"))
def list_merchant_stores(merchant_id: ObjectId, session: DbSession, principal: LoggedIn, paging: Paging) -> Page[StoreRead]:
    """All of a merchant's stores, closed ones included (for its staff)."""
    merchant = service.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    rows, cursor = stores.list_stores(session, paging, merchant_id=merchant.id, category_code=None, public_only=False)
    return Page(items=rows, next_cursor=cursor)


@router.post("/merchants/{merchant_id:int}/stores", status_code=status.HTTP_201_CREATED, response_model=StoreDetail,
             openapi_extra=access("merchant:store.manage"))
def create_store(merchant_id: ObjectId, body: StoreCreate, session: DbSession, principal: LoggedIn) -> StoreDetail:
    merchant = service.managed_merchant(session, principal, merchant_id, Action.STORE_MANAGE)
    return stores.store_detail(session, stores.create_store(session, merchant, body), include_hidden_items=True)


@router.get("/stores/{store_id:int}", response_model=StoreDetail, openapi_extra=access("public"))
def get_store(store_id: ObjectId, session: DbSession, principal: ApiPrincipal) -> StoreDetail:
    store = stores.visible_store(session, principal, store_id)
    return stores.store_detail(session, store, include_hidden_items=principal.can(Action.CONSOLE_VIEW, store.merchant_id))


def _managed_store(session, principal, store_id: int):
    store = stores.get_store(session, store_id)
    service.managed_merchant(session, principal, store.merchant_id, Action.STORE_MANAGE)
    return store


@router.patch("/stores/{store_id:int}", response_model=StoreDetail, openapi_extra=access("merchant:store.manage"))
def update_store(store_id: ObjectId, body: StoreUpdate, session: DbSession, principal: LoggedIn) -> StoreDetail:
    store = stores.update_store(session, _managed_store(session, principal, store_id), body)
    return stores.store_detail(session, store, include_hidden_items=True)


HOURS_RULES = {422: {"model": ErrorEnvelope, "description": (
    "Invalid input (`validation_error`), including the rules of HoursInterval and OpeningHours a schema "
    "cannot state: `closes` after `opens` unless `next_day` (then at or before it; opens equal to closes "
    "without next_day is refused), no overlapping intervals.")}}


@router.put("/stores/{store_id:int}/hours", response_model=StoreDetail, openapi_extra=access("merchant:store.manage"),
            responses=HOURS_RULES)
def set_hours(store_id: ObjectId, body: OpeningHours, session: DbSession, principal: LoggedIn) -> StoreDetail:
    """Replace the weekly opening hours and closed dates."""
    store = stores.set_hours(session, _managed_store(session, principal, store_id), body)
    return stores.store_detail(session, store, include_hidden_items=True)


@router.delete("/stores/{store_id:int}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("merchant:store.manage"))
def close_store(store_id: ObjectId, session: DbSession, principal: LoggedIn) -> Response:
    """Close a store for good; it disappears from listings, its history stays."""
    stores.close_store(session, _managed_store(session, principal, store_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
