"""The counter's day of bookings in the merchant console, with attended / no-show buttons (the verifying
screen beside it is vouchers.counter_pages)."""

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from daodian.accounts.authz import Action, authorize
from daodian.accounts.own_transaction_deps import Factory, OwnPagePrincipal
from daodian.bookings import service as bookings
from daodian.bookings.models import BookingStatus
from daodian.kit.api.http import ObjectId
from daodian.kit.api.pagination import PageParams
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, is_htmx, login_redirect, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.orders.page_messages import MESSAGES

router = APIRouter()


DAY_BOOKINGS = 500  # a busy store's day fits in one page


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
