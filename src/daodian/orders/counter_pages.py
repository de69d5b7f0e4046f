"""The counter screens of the merchant console: verifying (核销) voucher codes on a tablet, and the day's bookings
with attended / no-show buttons.

Verification goes through orders.counter exactly as `POST /api/v1/vouchers/verify` does: one use consumed
exactly once, only at a store of the seller that offers the item, only before expiry, and wrong codes
counted per staff account and store (throttled). Each refusal gets its own message, so the clerk can tell
the customer what is wrong: a wrong code, a used one, an expired one, one of another merchant.
"""

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from daodian.accounts.authz import Action, Principal, authorize
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.http import ObjectId
from daodian.kit.pagination import PageParams
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.orders import bookings, counter
from daodian.orders.booking_models import BookingStatus
from daodian.orders.dependencies import AppSettings, Factory
from daodian.orders.errors import VoucherNotFound
from daodian.orders.page_deps import OwnPagePrincipal
from daodian.orders.page_messages import MESSAGES, message_for
from daodian.web.forms import CheckedForm, is_htmx, login_redirect, see_other, text
from daodian.web.rendering import render

router = APIRouter()

DAY_BOOKINGS = 500  # a busy store's day fits in one page


def _counter_store(session, principal: Principal, store_id: int):
    store = stores.get_store(session, store_id)
    authorize(principal, Action.COUNTER, store.merchant_id)
    return store, merchants.get_merchant(session, store.merchant_id)


def _screen(request: Request, principal: Principal, store, merchant, *, result: dict | None = None,
            status: int = 200) -> HTMLResponse:
    template = "console/_verify_result.html" if is_htmx(request) else "console/verify.html"
    return render(request, template, {"principal": principal, "store": store, "merchant": merchant,
                                      "result": result}, status=status)


@router.get("/merchant/counter/{store_id}/verify", response_class=HTMLResponse)
def verify_screen(store_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    with unit_of_work(factory, read_only=True) as session:
        store, merchant = _counter_store(session, principal, store_id)
    return render(request, "console/verify.html", {"principal": principal, "store": store, "merchant": merchant,
                                                   "result": None})


@router.post("/merchant/counter/{store_id}/verify", response_class=HTMLResponse)
def verify_code(store_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                settings: AppSettings, form: CheckedForm) -> Response:
    code = text(form, "code", 64)
    with unit_of_work(factory, read_only=True) as session:
        store, merchant = _counter_store(session, principal, store_id)
    if not code:
        return _screen(request, principal, store, merchant, status=422,
                       result={"ok": False, "code": "empty", "message": message_for(VoucherNotFound())})
    try:
        with unit_of_work(factory) as session:
            verification = counter.verify(session, principal, raw_code=code, store_id=store.id, terminal_id=None,
                                          settings=settings)
            read = counter.verification_read(session, verification, settings)
    except VoucherNotFound as exc:
        counter.record_failure(factory, counter.terminals(principal, store.id, None))
        return _screen(request, principal, store, merchant, status=422,
                       result={"ok": False, "code": exc.code, "message": message_for(exc), "typed": code})
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return _screen(request, principal, store, merchant, status=422,
                       result={"ok": False, "code": exc.code, "message": message_for(exc), "typed": code,
                               "details": exc.details})
    return _screen(request, principal, store, merchant, result={
        "ok": True, "verification": read, "can_reverse": principal.can(Action.STORE_MANAGE, store.merchant_id)})


@router.post("/merchant/verifications/{verification_id}/reverse", response_class=HTMLResponse)
def reverse_verification(verification_id: ObjectId, request: Request, principal: OwnPagePrincipal,
                         factory: Factory, settings: AppSettings, form: CheckedForm) -> Response:
    try:
        with unit_of_work(factory) as session:
            verification = counter.reverse(session, principal, verification_id, settings)
            read = counter.verification_read(session, verification, settings)
            store, merchant = _counter_store(session, principal, verification.store_id)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        with unit_of_work(factory, read_only=True) as session:
            store_id = _int(text(form, "store_id", 20))
            store, merchant = _counter_store(session, principal, store_id) if store_id else (None, None)
        if store is None:
            raise
        return _screen(request, principal, store, merchant, status=422,
                       result={"ok": False, "code": exc.code, "message": message_for(exc)})
    return _screen(request, principal, store, merchant, result={"ok": True, "reversed": True, "verification": read})


def _int(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 16 else None


# --- the day's bookings -----------------------------------------------------------------------


def _day(raw: str | None, zone: ZoneInfo) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return utcnow().astimezone(zone).date()


@router.get("/merchant/counter/{store_id}/bookings", response_class=HTMLResponse)
def day_bookings(store_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                 day: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    with unit_of_work(factory, read_only=True) as session:
        store = stores.get_store(session, store_id)
        authorize(principal, Action.CONSOLE_VIEW, store.merchant_id)
        merchant = merchants.get_merchant(session, store.merchant_id)
        zone = ZoneInfo(store.timezone)
        shown = _day(day, zone)
        start = datetime.combine(shown, time(0), zone)
        rows, _ = bookings.store_bookings(session, principal, store.id, PageParams(limit=DAY_BOOKINGS, after_id=None),
                                          start=start, end=start + timedelta(days=1), status=None)
        items = {i.id: i for i in stores.store_detail(session, store, include_hidden_items=True).service_items}
    rows.sort(key=lambda b: (b.starts_at, b.id))
    return render(request, "console/bookings_day.html", {
        "principal": principal, "store": store, "merchant": merchant, "bookings": rows, "items": items,
        "day": shown, "days": [shown + timedelta(days=n) for n in range(-1, 6)],
        "can_mark": principal.can(Action.COUNTER, store.merchant_id), "now": utcnow(),
        "problem": MESSAGES.get(request.query_params.get("problem", "")),
    })


@router.post("/merchant/bookings/{booking_id}/attendance", response_class=HTMLResponse)
def mark_attendance(booking_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                    form: CheckedForm) -> Response:
    wanted = text(form, "status", 16)
    status = BookingStatus.NO_SHOW if wanted == "no_show" else BookingStatus.ATTENDED
    problem = None
    try:
        with unit_of_work(factory) as session:
            bookings.mark(session, principal, booking_id, status)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        problem = exc.code
    with unit_of_work(factory, read_only=True) as session:
        read = bookings.staff_booking_reads(session, [bookings.visible_booking(session, principal, booking_id)])[0]
        store = stores.get_store(session, read.store_id)
        items = {i.id: i for i in stores.store_detail(session, store, include_hidden_items=True).service_items}
    if not is_htmx(request):
        day = read.starts_at.astimezone(ZoneInfo(store.timezone)).date().isoformat()
        return see_other(f"/merchant/counter/{store.id}/bookings?day={day}" + (f"&problem={problem}" if problem else ""))
    return render(request, "console/_booking_row.html", {
        "booking": read, "store": store, "items": items, "can_mark": True, "now": utcnow(),
        "problem": MESSAGES.get(problem) if problem else None}, status=422 if problem else 200)
