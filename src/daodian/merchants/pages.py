"""HTML pages of the merchants domain: the merchant console and the operator page (the consumer's store page,
which also shows reviews and the follow button, is web.store_pages).

Every page goes through the same services and authorization as the API; forms re-render with their
messages (422) instead of failing, and partial writes are undone in a savepoint before that.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from daodian.accounts.authz import Action, Principal, require_operator
from daodian.accounts.dependencies import PagePrincipal
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import PageParams, Paging
from daodian.kit.errors import Conflict, DomainError
from daodian.kit.html.forms import CheckedForm, field_errors, is_htmx, login_redirect, parse_yuan, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants import hours_form, service, service_items, stores
from daodian.merchants.item_schemas import ServiceItemCreate, ServiceItemUpdate
from daodian.merchants.models import Merchant, MerchantStatus, Store
from daodian.merchants.schemas import MerchantUpdate, StoreUpdate
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import ServiceCategory

router = APIRouter()

STORE_FIELDS = ("name", "name_en", "address", "phone", "status")
ITEM_FIELDS = ("name_zh", "name_en", "description", "service_category", "price", "duration_min", "status")


# --- console: merchants and stores ------------------------------------------------------------


@router.get("/merchant", response_class=HTMLResponse)
def console_home(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    mine = service.merchants_by_ids(session, set(principal.roles))
    return render(request, "console/merchants.html", {
        "principal": principal, "merchants": sorted(mine.values(), key=lambda m: m.id),
    })


@router.get("/merchant/{merchant_id}", response_class=HTMLResponse)
def console_merchant(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                     paging: Paging) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    merchant = service.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    rows, cursor = stores.list_stores(session, paging, merchant_id=merchant.id, category_code=None, public_only=False)
    return render(request, "console/merchant.html", {
        "principal": principal, "merchant": merchant, "stores": rows, "next_cursor": cursor,
        "can_edit": principal.can(Action.STORE_MANAGE, merchant.id),
    })


def _managed_store(session, principal: Principal, store_id: int) -> tuple[Store, Merchant]:
    store = stores.get_store(session, store_id)
    return store, service.managed_merchant(session, principal, store.merchant_id, Action.STORE_MANAGE)


def _store_edit(request: Request, session, principal: Principal, store: Store, merchant: Merchant, *,
                details: dict | None = None, details_errors: dict | None = None,
                hours: hours_form.HoursForm | None = None, saved: str | None = None, status: int = 200) -> HTMLResponse:
    detail = stores.store_detail(session, store, include_hidden_items=True)
    if details is None:
        details = {f: getattr(detail, f) or "" for f in STORE_FIELDS}
    return render(request, "console/store_edit.html", {
        "principal": principal, "merchant": merchant, "store": detail, "details": details,
        "details_errors": details_errors or {}, "hours": hours or hours_form.from_hours(detail.hours), "saved": saved,
    }, status=status)


@router.get("/merchant/stores/{store_id}", response_class=HTMLResponse)
def store_edit(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
               saved: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    store, merchant = _managed_store(session, principal, store_id)
    return _store_edit(request, session, principal, store, merchant, saved=saved)


@router.post("/merchant/stores/{store_id}", response_class=HTMLResponse)
def store_update(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                 form: CheckedForm) -> Response:
    store, merchant = _managed_store(session, principal, store_id)
    details = {f: text(form, f, 255) for f in STORE_FIELDS}
    try:
        # Name and address are required (empty stays empty and fails); the optional ones clear when emptied.
        data = StoreUpdate(name=details["name"], address=details["address"], name_en=details["name_en"] or None,
                           phone=details["phone"] or None, status=details["status"] or None)
    except ValidationError as exc:
        return _store_edit(request, session, principal, store, merchant, details=details,
                           details_errors=field_errors(exc), status=422)
    stores.update_store(session, store, data)
    return see_other(f"/merchant/stores/{store.id}?saved=details")


@router.post("/merchant/stores/{store_id}/hours", response_class=HTMLResponse)
def store_hours(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                form: CheckedForm) -> Response:
    store, merchant = _managed_store(session, principal, store_id)
    state, hours = hours_form.parse(form)
    add_row = text(form, "add_row", 2)
    if add_row.isdigit():  # the "add a time range" button without JavaScript: show the form again, save nothing
        state.errors = []
        for row in state.rows:
            row.error = None
        return _store_edit(request, session, principal, store, merchant,
                           hours=hours_form.with_blank_row(state, int(add_row)))
    status = 422 if hours is None else 200
    if hours is not None:
        stores.set_hours(session, store, hours)
        state = hours_form.from_hours(stores.opening_hours(store))
        if not is_htmx(request):
            return see_other(f"/merchant/stores/{store.id}?saved=hours")
    if is_htmx(request):
        return render(request, "console/_hours_form.html", {
            "store": store, "hours": state, "saved": "hours" if hours is not None else None}, status=status)
    return _store_edit(request, session, principal, store, merchant, hours=state, status=status)


@router.get("/merchant/stores/{store_id}/hours/row", response_class=HTMLResponse)
def hours_row(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
              weekday: Annotated[int, Query(ge=1, le=7)]) -> Response:
    """One empty time-range row, for htmx to append to a weekday."""
    _managed_store(session, principal, store_id)
    return render(request, "console/_hours_row.html", {"row": hours_form.HoursRow(weekday=weekday)})


# --- console: service items -------------------------------------------------------------------


def _all_stores(session, merchant_id: int) -> list:
    """Every store of a merchant, for the "offered at" checkboxes (brands may have hundreds)."""
    found, after = [], None
    while True:
        rows, cursor = stores.list_stores(session, PageParams(limit=500, after_id=after), merchant_id=merchant_id,
                                          category_code=None, public_only=False)
        found.extend(rows)
        if cursor is None:
            return found
        after = int(cursor)


def _item_page(request: Request, session, principal: Principal, merchant: Merchant, *, values: dict, item_id=None,
               errors: dict | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "console/item_form.html", {
        "principal": principal, "merchant": merchant, "values": values, "errors": errors or {}, "item_id": item_id,
        "service_tree": taxonomy.category_tree(session, ServiceCategory), "stores": _all_stores(session, merchant.id),
    }, status=status)


def _item_input(form: FormData) -> tuple[dict, dict, dict]:
    """(what the form showed, what the schema gets, problems found before the schema)."""
    shown = {f: text(form, f, 4000) for f in ITEM_FIELDS}
    shown["store_ids"] = [v for v in form.getlist("store_ids") if isinstance(v, str)][:1000]
    errors: dict[str, str] = {}
    values = {"name_zh": shown["name_zh"], "name_en": shown["name_en"] or None, "description": shown["description"],
              "service_category": shown["service_category"], "duration_min": _whole_number(shown["duration_min"]),
              "store_ids": [int(v) for v in shown["store_ids"] if v.isascii() and v.isdigit() and len(v) < 20]}
    if shown["status"]:
        values["status"] = shown["status"]
    shown["at_home"] = "1" if text(form, "at_home", 4) == "1" else ""
    values["at_home"] = bool(shown["at_home"])
    try:
        values["price_fen"] = parse_yuan(shown["price"])
    except ValueError as exc:
        errors["price"] = str(exc)
    return shown, values, errors


def _whole_number(raw: str) -> int | str:
    # Request schemas take JSON numbers only; a form sends text, so digits become a number here.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else raw


def _yuan_input(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@router.get("/merchant/{merchant_id}/items", response_class=HTMLResponse)
def items(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
          paging: Paging) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    merchant = service.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    rows, cursor = service_items.items_page(session, merchant.id, paging, include_hidden=True)
    return render(request, "console/items.html", {
        "principal": principal, "merchant": merchant, "items": stores.item_reads(session, rows),
        "next_cursor": cursor, "can_edit": principal.can(Action.CATALOG_MANAGE, merchant.id),
        "store_names": {s.id: s for s in _all_stores(session, merchant.id)},
    })


@router.get("/merchant/{merchant_id}/items/new", response_class=HTMLResponse)
def new_item(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    merchant = service.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    return _item_page(request, session, principal, merchant, values={"duration_min": "60", "store_ids": []})


@router.post("/merchant/{merchant_id}/items/new", response_class=HTMLResponse)
def create_item(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                form: CheckedForm) -> Response:
    merchant = service.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    shown, values, errors = _item_input(form)
    try:
        data = ServiceItemCreate.model_validate(values)
    except ValidationError as exc:
        errors = {**field_errors(exc), **errors}
    if errors:
        return _item_page(request, session, principal, merchant, values=shown, errors=errors, status=422)
    try:
        with session.begin_nested():
            item = service_items.create_item(session, merchant.id, data)
            stores.set_item_stores(session, item, data.store_ids)
    except DomainError as exc:
        return _item_page(request, session, principal, merchant, values=shown, errors={"_form": exc.message},
                          status=422)
    return see_other(f"/merchant/{merchant.id}/items?saved={item.id}")


def _managed_item(session, principal: Principal, item_id: int):
    item = service_items.get_item(session, item_id)
    return item, service.managed_merchant(session, principal, item.merchant_id, Action.CATALOG_MANAGE)


@router.get("/merchant/items/{item_id}", response_class=HTMLResponse)
def edit_item(item_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    item, merchant = _managed_item(session, principal, item_id)
    read = stores.item_reads(session, [item])[0]
    values = {"name_zh": read.name_zh, "name_en": read.name_en or "", "description": read.description,
              "service_category": read.category.code, "price": _yuan_input(read.price_fen),
              "duration_min": str(read.duration_min), "status": read.status, "at_home": "1" if read.at_home else "",
              "store_ids": [str(s) for s in read.store_ids]}
    return _item_page(request, session, principal, merchant, values=values, item_id=item.id)


@router.post("/merchant/items/{item_id}", response_class=HTMLResponse)
def update_item(item_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                form: CheckedForm) -> Response:
    item, merchant = _managed_item(session, principal, item_id)
    shown, values, errors = _item_input(form)
    try:
        data = ServiceItemUpdate.model_validate(values)
    except ValidationError as exc:
        errors = {**field_errors(exc), **errors}
    if errors:
        return _item_page(request, session, principal, merchant, values=shown, item_id=item.id, errors=errors,
                          status=422)
    try:
        with session.begin_nested():
            service_items.update_item(session, item, data)
            stores.set_item_stores(session, item, data.store_ids or [])
    except DomainError as exc:
        return _item_page(request, session, principal, merchant, values=shown, item_id=item.id,
                          errors={"_form": exc.message}, status=422)
    return see_other(f"/merchant/{merchant.id}/items?saved={item.id}")


# --- operator ---------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, session: DbSession, principal: PagePrincipal, paging: Paging,
          approved: Annotated[int | None, Query(ge=1)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    rows, cursor = service.list_merchants(session, principal, paging, MerchantStatus.PENDING)
    return render(request, "admin/merchants.html", {
        "principal": principal, "merchants": rows, "next_cursor": cursor, "approved": approved,
    })


@router.post("/admin/merchants/{merchant_id}/approve")
def approve(merchant_id: ObjectId, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    merchant = _change_status(session, principal, merchant_id, MerchantStatus.PENDING, MerchantStatus.ACTIVE)
    if text(form, "next", 8) == "list":  # from the merchants page (web.operator_pages), back to it
        return see_other("/admin/merchants?status=pending&done=approved")
    return see_other(f"/admin?approved={merchant.id}")


@router.post("/admin/merchants/{merchant_id}/suspend")
def suspend(merchant_id: ObjectId, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    _change_status(session, principal, merchant_id, MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED)
    return see_other("/admin/merchants?status=active&done=suspended")


@router.post("/admin/merchants/{merchant_id}/reinstate")
def reinstate(merchant_id: ObjectId, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    _change_status(session, principal, merchant_id, MerchantStatus.SUSPENDED, MerchantStatus.ACTIVE)
    return see_other("/admin/merchants?status=suspended&done=reinstated")


def _change_status(session, principal: Principal, merchant_id: int, before: MerchantStatus,
                   after: MerchantStatus) -> Merchant:
    """The merchants page's buttons: each moves a merchant from one state only (a closed merchant, say, is
    refused with 409); a repeated click finds it moved already and changes nothing. Operators only."""
    require_operator(principal)
    merchant = service.get_merchant(session, merchant_id)
    if merchant.status == after:
        return merchant
    if merchant.status != before:
        raise Conflict(f"This merchant is {merchant.status}, not {before}.", code="merchant_status_changed")
    return service.update_merchant(session, principal, merchant, MerchantUpdate(status=after))
