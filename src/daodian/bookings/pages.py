"""Consumer booking pages: a store's bookable times for a service (a week at a glance), booking one with a
voucher, paying online or paying at the store, and "my bookings" with cancelling.

Booking goes through bookings.service like `POST /api/v1/slots/{id}/bookings` (a retry returns the place
already held, so the form needs no idempotency key); paying online places the booking's order and then
goes to the provider's page through the same idempotent path as checkout.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from daodian.accounts.authz import Principal, require_login
from daodian.accounts.own_transaction_deps import AppSettings, Factory, OwnPagePrincipal
from daodian.bookings import service as bookings
from daodian.bookings import slots as booking_slots
from daodian.bookings.models import BookingPayment
from daodian.bookings.schemas import BookingCreate
from daodian.kit.api.http import ObjectId
from daodian.kit.api.pagination import Paging
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, login_redirect, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants import service_items, stores
from daodian.orders.page_messages import MESSAGES
from daodian.payments.page_payments import new_form_key, start_payment
from daodian.vouchers import repository as voucher_repository
from daodian.vouchers import service as vouchers
from daodian.vouchers.models import Voucher

router = APIRouter()

WEEK = 7


def _calendar(session, principal: Principal, store_id: int, item_id: int | None) -> dict:
    store = stores.visible_store(session, principal, store_id)
    detail = stores.store_detail(session, store, include_hidden_items=False)
    items = [i for i in detail.service_items if i.status == "active"]
    item = next((i for i in items if i.id == item_id), items[0] if items else None)
    zone = ZoneInfo(store.timezone)
    today = utcnow().astimezone(zone).date()
    start = datetime.combine(today, time(0), zone)
    days: dict = defaultdict(list)
    if item is not None:
        for slot in booking_slots.list_slots(session, principal, store.id, start, start + timedelta(days=WEEK), item.id):
            if slot.starts_at > utcnow():
                days[slot.starts_at.astimezone(zone).date()].append(booking_slots.slot_read(slot))
    mine = []
    if principal.is_authenticated and item is not None:
        rows = session.scalars(voucher_repository.vouchers_query(consumer_id=principal.user_id).where(
            Voucher.service_item_id == item.id)).all()
        mine = [v for v in vouchers.voucher_reads(session, list(rows), utcnow()) if v.status == "active"]
    return {"principal": principal, "store": detail, "items": items, "item": item,
            "days": [(today + timedelta(days=n), days.get(today + timedelta(days=n), [])) for n in range(WEEK)],
            "my_vouchers": mine}


@router.get("/s/{store_id}/book", response_class=HTMLResponse)
def book_page(store_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
              item_id: Annotated[int | None, Query(ge=1)] = None,
              day: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    with unit_of_work(factory, read_only=True) as session:
        context = _calendar(session, principal, store_id, item_id)
    return render(request, "orders/book.html", {**context, **_day_tabs(context["days"], day), "error": None,
                                                "form_key": new_form_key()})


def _day_tabs(days: list, picked: str | None) -> dict:
    """The days that have times to book, one tab each (a day without slots is not offered), and the one shown:
    the day asked for, else the first with a free place, else the first with any slot."""
    offered = [(d, slots) for d, slots in days if slots]
    chosen = next((d for d, _ in offered if d.isoformat() == picked), None)
    if chosen is None:
        first = offered[0][0] if offered else None
        chosen = next((d for d, slots in offered if any(s.remaining for s in slots)), first)
    return {"offered_days": offered, "day": chosen}


@router.post("/s/{store_id}/book", response_class=HTMLResponse)
def book(store_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory, settings: AppSettings,
         form: CheckedForm) -> Response:
    require_login(principal)
    slot_raw, payment = text(form, "slot_id", 20), text(form, "payment", 16)
    code = text(form, "voucher_code", 40) or None
    error = None
    try:
        data = BookingCreate(payment=payment, voucher_code=code if payment == BookingPayment.VOUCHER else None)
        slot_id = int(slot_raw) if slot_raw.isascii() and slot_raw.isdigit() and len(slot_raw) < 16 else 0
        with unit_of_work(factory) as session:
            slot = booking_slots.get_slot(session, slot_id) if slot_id else None
            if slot is None or slot.store_id != store_id:
                error = "slot_missing"
            else:
                booking, _ = bookings.book(session, principal, slot.id, data, settings)
                booking_id, order_id = booking.id, booking.order_id
    except ValidationError:
        error = "payment_missing"
    except DomainError as exc:
        if exc.status in (401, 403) and exc.code != "too_many_no_shows":
            raise
        error = exc.code
    if error is None:
        if order_id is not None and data.payment == BookingPayment.PAY_ONLINE:
            return see_other(start_payment(request, principal, text(form, "form_key", 64) or new_form_key(), order_id))
        return see_other(f"/bookings?booked={booking_id}")
    with unit_of_work(factory, read_only=True) as session:
        context = _calendar(session, principal, store_id, _int(text(form, "item_id", 20)))
    return render(request, "orders/book.html", {
        **context, **_day_tabs(context["days"], text(form, "day", 10)),
        "error": MESSAGES.get(error, BOOKING_FORM_PROBLEMS.get(error, MESSAGES["slot_closed"])),
        "form_key": new_form_key()}, status=422)


def _int(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 16 else None


BOOKING_FORM_PROBLEMS = {
    "slot_missing": MESSAGES["slot_closed"],
    "payment_missing": MESSAGES["voucher_not_for_slot"],
    "voucher_not_found": MESSAGES["voucher_not_found"],
}


# --- my bookings ------------------------------------------------------------------------------


@router.get("/bookings", response_class=HTMLResponse)
def my_bookings(request: Request, principal: OwnPagePrincipal, factory: Factory, paging: Paging) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    with unit_of_work(factory, read_only=True) as session:
        rows, cursor = bookings.my_bookings(session, principal, paging)
        store_rows = {s.id: s for s in (stores.get_store(session, i) for i in {b.store_id for b in rows})}
        items = {i.id: i for i in service_items.items_by_ids(session, sorted({b.service_item_id for b in rows}))}
    rows.sort(key=lambda b: b.starts_at, reverse=True)
    return render(request, "orders/bookings.html", {
        "principal": principal, "bookings": rows, "stores": store_rows, "items": items, "next_cursor": cursor,
        "booked": _int(request.query_params.get("booked", "")[:16]), "now": utcnow(),
        "problem": MESSAGES.get(request.query_params.get("problem", "")),
    })


@router.post("/bookings/{booking_id}/cancel", response_class=HTMLResponse)
def cancel_booking(booking_id: ObjectId, principal: OwnPagePrincipal, factory: Factory, settings: AppSettings,
                   form: CheckedForm) -> Response:
    require_login(principal)
    try:
        with unit_of_work(factory) as session:
            bookings.cancel(session, principal, booking_id, settings)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return see_other(f"/bookings?problem={exc.code}")
    return see_other("/bookings")
