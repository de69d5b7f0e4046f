from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.exceptions import RequestValidationError

from daodian.accounts.dependencies import ApiPrincipal, LoggedIn
from daodian.accounts.own_transaction_deps import AppSettings
from daodian.bookings import service as bookings
from daodian.bookings import slots as booking_slots
from daodian.bookings.models import BookingStatus
from daodian.bookings.schemas import (
    AttendanceIn,
    BookingCreate,
    BookingRead,
    SlotCreate,
    SlotRead,
    SlotUpdate,
    StaffBookingRead,
    WeeklySlotsCreate,
    WeeklySlotsResult,
    aware_utc,
)
from daodian.kit.api.http import DbSession, ObjectId, QueryId, access
from daodian.kit.api.pagination import Page, Paging
from daodian.kit.api.scopes import declare
from daodian.kit.clock import utcnow

router = APIRouter(tags=["bookings"])
declare(router, "order:read", "order:write")  # the scopes apps' tokens need here (kit.api.scopes)


WindowFrom = Annotated[datetime | None, Query(alias="from", description="ISO-8601 with a UTC offset.")]
WindowTo = Annotated[datetime | None, Query(alias="to", description="ISO-8601 with a UTC offset.")]
DEFAULT_WINDOW = timedelta(days=14)
MAX_WINDOW = timedelta(days=62)


def _invalid(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": f"Value error, {message}", "type": "value_error"}])


def _moment(value: datetime | None, name: str) -> datetime | None:
    try:
        return None if value is None else aware_utc(value)
    except ValueError as exc:
        raise _invalid(name, str(exc)) from None


# The windows are async dependencies: they do no I/O, and FastAPI would run a plain `def` one in a worker
# thread of its own.
async def slot_window(start: WindowFrom = None, end: WindowTo = None) -> tuple[datetime, datetime]:
    """[from, to): by default the next 14 days; at most 62."""
    start = _moment(start, "from") or utcnow()
    end = _moment(end, "to") or start + DEFAULT_WINDOW
    if not start < end <= start + MAX_WINDOW:
        raise _invalid("to", "must be after `from`, at most 62 days later")
    return start, end


async def booking_window(start: WindowFrom = None, end: WindowTo = None) -> tuple[datetime | None, datetime | None]:
    start, end = _moment(start, "from"), _moment(end, "to")
    if start is not None and end is not None and end <= start:
        raise _invalid("to", "must be after `from`")
    return start, end


# --- slots ------------------------------------------------------------------------------------


@router.post("/stores/{store_id}/slots", 
             status_code=status.HTTP_201_CREATED, response_model=SlotRead,
             openapi_extra=access("merchant:store.manage"))
def publish_slot(store_id: ObjectId, body: SlotCreate, session: DbSession, principal: LoggedIn) -> SlotRead:
    """Publish one bookable time slot of a service item offered at this store."""
    return booking_slots.slot_read(booking_slots.publish_slot(session, principal, store_id, body))


@router.post("/stores/{store_id}/slots/weekly", 
             status_code=status.HTTP_201_CREATED, response_model=WeeklySlotsResult,
             openapi_extra=access("merchant:store.manage"))
def publish_weekly(store_id: ObjectId, body: WeeklySlotsCreate, session: DbSession,
                   principal: LoggedIn) -> WeeklySlotsResult:
    """Publish the same times on chosen weekdays over a date range (store's local time); existing slots are kept."""
    created, skipped = booking_slots.publish_weekly(session, principal, store_id, body)
    return WeeklySlotsResult(created=[booking_slots.slot_read(s) for s in created], skipped=skipped)


@router.get("/stores/{store_id}/slots", response_model=list[SlotRead], openapi_extra=access("public"))
def list_slots(store_id: ObjectId, session: DbSession, principal: ApiPrincipal,
               window: Annotated[tuple[datetime, datetime], Depends(slot_window)],
               service_item_id: QueryId = None) -> list[SlotRead]:
    """Open slots starting in [from, to) (default: the next 14 days; at most 62), full ones included."""
    slots = booking_slots.list_slots(session, principal, store_id, *window, service_item_id)
    return [booking_slots.slot_read(s) for s in slots]


@router.patch("/slots/{slot_id}", 
              response_model=SlotRead, openapi_extra=access("merchant:store.manage"))
def update_slot(slot_id: ObjectId, body: SlotUpdate, session: DbSession, principal: LoggedIn) -> SlotRead:
    """Change the capacity; never below the places already booked (409 `capacity_below_booked`)."""
    return booking_slots.slot_read(booking_slots.set_capacity(session, principal, slot_id, body.capacity))


@router.post("/slots/{slot_id}/cancel", 
             response_model=SlotRead, openapi_extra=access("merchant:store.manage"))
def cancel_slot(slot_id: ObjectId, session: DbSession, principal: LoggedIn) -> SlotRead:
    """Withdraw a slot; its live bookings are cancelled with it."""
    return booking_slots.slot_read(bookings.cancel_slot(session, principal, slot_id))


# --- bookings ---------------------------------------------------------------------------------


@router.post("/slots/{slot_id}/bookings", 
             status_code=status.HTTP_201_CREATED, response_model=BookingRead,
             openapi_extra=access("authenticated"),
             responses={200: {"model": BookingRead, "description": "You already hold a place in this slot."}})
def book(slot_id: ObjectId, body: BookingCreate, session: DbSession, principal: LoggedIn, settings: AppSettings,
         response: Response) -> BookingRead:
    """Take a place in a slot (409 `slot_full` when none is left). Retrying returns your booking (200).

    With `payment=pay_online` the booking comes with an unpaid order (`order_id`): pay it with
    POST /orders/{order_id}/pay before it expires, or the place goes back. Errors: `slot_full`,
    `slot_closed`, `slot_started` (409), `too_many_no_shows` (403), `voucher_not_for_slot` (422),
    `voucher_already_booked` (409), `voucher_not_found` (404), `slot_not_found` (404)."""
    booking, created = bookings.book(session, principal, slot_id, body, settings)
    if not created:
        response.status_code = status.HTTP_200_OK
    return bookings.booking_reads(session, [booking])[0]


@router.get("/me/bookings", response_model=Page[BookingRead], openapi_extra=access("authenticated"))
def my_bookings(session: DbSession, principal: LoggedIn, paging: Paging) -> Page[BookingRead]:
    rows, cursor = bookings.my_bookings(session, principal, paging)
    return Page(items=rows, next_cursor=cursor)


@router.get("/bookings/{booking_id}", response_model=BookingRead,
            openapi_extra=access("self|merchant:console.view"))
def get_booking(booking_id: ObjectId, session: DbSession, principal: LoggedIn) -> BookingRead:
    """A booking of yours, or of your store (staff)."""
    return bookings.booking_reads(session, [bookings.visible_booking(session, principal, booking_id)])[0]


@router.post("/bookings/{booking_id}/cancel", 
             response_model=BookingRead, openapi_extra=access("self|merchant:counter"))
def cancel_booking(booking_id: ObjectId, session: DbSession, principal: LoggedIn,
                   settings: AppSettings) -> BookingRead:
    """Cancel: the consumer until the free-cancellation window closes (409 `cancellation_window_passed`),
    the store's counter staff at any time. An unpaid `pay_online` order is cancelled with it; a paid one
    keeps its voucher (refund it through POST /orders/{id}/refunds)."""
    return bookings.booking_reads(session, [bookings.cancel(session, principal, booking_id, settings)])[0]


@router.post("/bookings/{booking_id}/attendance", response_model=BookingRead,
             openapi_extra=access("merchant:counter"))
def mark_attendance(booking_id: ObjectId, body: AttendanceIn, session: DbSession,
                    principal: LoggedIn) -> BookingRead:
    """Record that the consumer came (`attended`) or did not (`no_show`, only after the start)."""
    booking = bookings.mark(session, principal, booking_id, BookingStatus(body.status))
    return bookings.booking_reads(session, [booking])[0]


@router.get("/stores/{store_id}/bookings", response_model=Page[StaffBookingRead],
            openapi_extra=access("merchant:console.view"))
def store_bookings(store_id: ObjectId, session: DbSession, principal: LoggedIn, paging: Paging,
                   window: Annotated[tuple[datetime | None, datetime | None], Depends(booking_window)],
                   status_: Annotated[BookingStatus | None, Query(alias="status")] = None) -> Page[StaffBookingRead]:
    """The store's bookings (optionally of slots starting in [from, to) and in one status), oldest first."""
    start, end = window
    rows, cursor = bookings.store_bookings(session, principal, store_id, paging, start=start, end=end, status=status_)
    return Page(items=rows, next_cursor=cursor)
