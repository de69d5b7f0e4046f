"""Consumers book places in time slots; stores cancel, and mark who came and who did not.

A place is taken by one conditional UPDATE (`booked < capacity`) and given back the same way, so the
count never passes the capacity nor drops below zero, under any number of parallel requests; a CHECK
constraint on the table says the same. Retrying a booking returns the live booking it made.
"""

from datetime import timedelta
from functools import partial

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize, require_login
from daodian.bookings import payments as booking_payments
from daodian.bookings import repository
from daodian.bookings.errors import (
    BookingNotActive,
    BookingNotFound,
    CancellationWindowPassed,
    SlotClosed,
    SlotFull,
    SlotNotFound,
    SlotNotStarted,
    SlotStarted,
    TooManyNoShows,
)
from daodian.bookings.models import Booking, BookingPayment, BookingSlot, BookingStatus, SlotStatus
from daodian.bookings.schemas import BookingCreate, BookingRead, StaffBookingRead
from daodian.bookings.slots import get_slot
from daodian.kit.api.pagination import PageParams, fetch_page
from daodian.kit.clock import utcnow
from daodian.kit.db import gathered
from daodian.kit.errors import NotFound
from daodian.kit.facts import append_fact
from daodian.kit.settings import Settings, get_settings
from daodian.merchants import stores
from daodian.vouchers.events import BATCH_VOUCHER_IDS

# A consumer who arrives a little early may be marked attended before the slot starts; a no-show only after.
EARLY_ARRIVAL = timedelta(hours=1)


def _fact(session: Session, kind: str, booking: Booking, slot: BookingSlot, **extra) -> None:
    append_fact(session, kind, {
        "booking_id": booking.id, "slot_id": slot.id, "service_item_id": booking.service_item_id,
        "starts_at": slot.starts_at.isoformat(), "payment": booking.payment, **extra,
    }, merchant_id=booking.merchant_id, store_id=booking.store_id, consumer_id=booking.consumer_id)


def book(session: Session, principal: Principal, slot_id: int, data: BookingCreate,
         settings: Settings | None = None) -> tuple[Booking, bool]:
    """(the booking, whether it is new): one place of the slot for the caller."""
    require_login(principal)
    settings = settings or get_settings()
    slot = get_slot(session, slot_id)
    try:
        stores.visible_store(session, principal, slot.store_id)
    except NotFound:
        raise SlotNotFound() from None
    existing = repository.active_booking(session, slot.id, principal.user_id)
    if existing is not None:
        return existing, False  # a retry: the place is already theirs
    now = utcnow()
    if slot.status != SlotStatus.OPEN:
        raise SlotClosed()
    if slot.starts_at <= now:
        raise SlotStarted()
    if data.payment == BookingPayment.PAY_AT_STORE:
        _check_no_shows(session, principal.user_id, settings)
    voucher_id, order_id = booking_payments.prepare(session, principal, slot, data, settings)

    # A full slot may be full of places held for orders never paid: expire those, then try again.
    if not repository.take_place(session, slot.id, now) and not (
            booking_payments.expire_unpaid_holders(session, slot.id, now)
            and repository.take_place(session, slot.id, now)):
        session.refresh(slot)
        raise SlotClosed() if slot.status != SlotStatus.OPEN else SlotFull()
    # We now hold the slot's row lock, so a racing retry of this very request has either committed (and is
    # visible to this new statement) or is waiting behind us.
    existing = repository.active_booking(session, slot.id, principal.user_id)
    if existing is not None:
        repository.release_places(session, slot.id, 1, now)
        booking_payments.discard(session, order_id)  # the order made for this retry is not needed
        return existing, False
    booking = Booking(slot_id=slot.id, consumer_id=principal.user_id, merchant_id=slot.merchant_id,
                      store_id=slot.store_id, service_item_id=slot.service_item_id, status=BookingStatus.BOOKED,
                      payment=data.payment, voucher_id=voucher_id, order_id=order_id, created_at=now)
    session.add(booking)
    session.flush()
    _fact(session, "booking.created", booking, slot, voucher_id=voucher_id, order_id=order_id)
    return booking, True


def _check_no_shows(session: Session, consumer_id: int, settings: Settings) -> None:
    if settings.booking_max_no_shows:
        since = utcnow() - timedelta(days=settings.booking_no_show_window_days)
        if repository.no_shows_since(session, consumer_id, since) >= settings.booking_max_no_shows:
            raise TooManyNoShows()


def visible_booking(session: Session, principal: Principal, booking_id: int) -> Booking:
    """A booking its consumer or the store's staff may see; 404 for everybody else."""
    require_login(principal)
    booking = session.get(Booking, booking_id)
    if booking is None or (booking.consumer_id != principal.user_id
                           and not principal.can(Action.CONSOLE_VIEW, booking.merchant_id)):
        raise BookingNotFound()
    return booking


def cancel(session: Session, principal: Principal, booking_id: int, settings: Settings | None = None) -> Booking:
    """The consumer cancels free until the window closes; the store's staff may cancel at any time.
    Cancelling a cancelled booking again returns it unchanged."""
    settings = settings or get_settings()
    booking = visible_booking(session, principal, booking_id)
    is_staff = principal.can(Action.COUNTER, booking.merchant_id)
    if booking.consumer_id != principal.user_id and not is_staff:
        raise BookingNotFound()
    if booking.status == BookingStatus.CANCELLED:
        return booking
    if booking.status != BookingStatus.BOOKED:
        raise BookingNotActive()
    booking_payments.lock(session, [booking])  # its order before the slot, as payments and expiry do
    slot = session.get(BookingSlot, booking.slot_id)
    now = utcnow()
    free_until = slot.starts_at - timedelta(hours=settings.booking_free_cancel_hours)
    late = now > free_until
    if late and not is_staff:
        raise CancellationWindowPassed(details={"free_until": free_until.isoformat()})
    reason = "consumer" if booking.consumer_id == principal.user_id and not late else "staff"
    if not repository.leave_booked(session, booking.id, BookingStatus.CANCELLED, cancelled_at=now,
                                   cancelled_by=principal.user_id, cancel_reason=reason):
        return _settled(session, booking, BookingStatus.CANCELLED)
    repository.release_places(session, slot.id, 1, now)
    session.refresh(booking)
    # Consumers cannot cancel late; when staff do, the store decides about money (orders' refunds).
    booking_payments.release(session, booking, refund=not late)
    _fact(session, "booking.cancelled", booking, slot, reason=reason, late=late)
    return booking


def _settled(session: Session, booking: Booking, wanted: BookingStatus) -> Booking:
    """A concurrent request moved the booking first: fine if it went where we wanted, a conflict if not."""
    session.refresh(booking)
    if booking.status != wanted:
        raise BookingNotActive()
    return booking


def mark(session: Session, principal: Principal, booking_id: int, status: BookingStatus) -> Booking:
    """Counter staff record that the consumer came (attended) or did not (no_show, after the start)."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise BookingNotFound()
    authorize(principal, Action.COUNTER, booking.merchant_id)
    if booking.status == status:
        return booking
    if booking.status != BookingStatus.BOOKED:
        raise BookingNotActive()
    slot = session.get(BookingSlot, booking.slot_id)
    now = utcnow()
    earliest = slot.starts_at if status == BookingStatus.NO_SHOW else slot.starts_at - EARLY_ARRIVAL
    if now < earliest:
        raise SlotNotStarted()
    if not repository.leave_booked(session, booking.id, status, marked_at=now, marked_by=principal.user_id):
        return _settled(session, booking, status)
    session.refresh(booking)
    _fact(session, f"booking.{status.value}", booking, slot)
    return booking


def on_voucher_verified(session: Session, voucher_id: int, by_user_id: int) -> Booking | None:
    """For the orders domain: the counter verified a voucher; the live booking it backs was attended.

    Most vouchers back no booking: a batch of verifications (kit.api.group_commit) asks which of its vouchers
    do in one read, and only those look their booking up. (No unit of a batch books with an existing voucher;
    a use consumed twice in one batch finds the booking already attended by the first.)"""
    if not gathered(session, BOOKED_VOUCHERS, voucher_id, partial(_booked, session), keys_from=BATCH_VOUCHER_IDS):
        return None
    booking = repository.active_booking_for_voucher(session, voucher_id)
    if booking is None or not repository.leave_booked(session, booking.id, BookingStatus.ATTENDED,
                                                      marked_at=utcnow(), marked_by=by_user_id):
        return None
    session.refresh(booking)
    _fact(session, "booking.attended", booking, session.get(BookingSlot, booking.slot_id), voucher_id=voucher_id)
    return booking


BOOKED_VOUCHERS = "bookings.booked_vouchers"  # a kind of kit.db.gathered lookup: voucher id -> True if booked


def _booked(session: Session, voucher_ids: set[int]) -> dict[int, bool]:
    return dict.fromkeys(repository.booked_voucher_ids(session, voucher_ids), True)


def on_order_paid(session: Session, order_id: int, voucher_ids: list[int]) -> Booking | None:
    """For the orders domain: the order a `pay_online` booking made was paid; its voucher now backs the booking
    (verifying it at the counter marks the booking attended)."""
    booking = repository.active_booking_for_order(session, order_id)
    if booking is None or not voucher_ids:
        return None
    booking.voucher_id = voucher_ids[0]
    session.flush()
    _fact(session, "booking.paid", booking, session.get(BookingSlot, booking.slot_id), order_id=order_id,
          voucher_id=booking.voucher_id)
    return booking


def on_order_closed(session: Session, order_id: int) -> Booking | None:
    """For the orders domain: the order of a `pay_online` booking was cancelled or expired unpaid; the place
    goes back."""
    booking = repository.active_booking_for_order(session, order_id)
    now = utcnow()
    if booking is None or not repository.leave_booked(session, booking.id, BookingStatus.CANCELLED, cancelled_at=now,
                                                      cancel_reason="unpaid"):
        return None
    repository.release_places(session, booking.slot_id, 1, now)
    session.refresh(booking)
    _fact(session, "booking.cancelled", booking, session.get(BookingSlot, booking.slot_id), reason="unpaid",
          late=False)
    return booking


def cancel_slot(session: Session, principal: Principal, slot_id: int) -> BookingSlot:
    """The store withdraws a slot: its live bookings are cancelled (and refunded) with it."""
    slot = get_slot(session, slot_id)
    authorize(principal, Action.STORE_MANAGE, slot.merchant_id)
    now = utcnow()
    booking_payments.lock(session, repository.active_bookings_of_slot(session, slot.id))  # orders first
    # Closing first takes the row lock and stops new bookings (take_place wants status open).
    if repository.close_slot_if_open(session, slot.id, now):
        cancelled = [b for b in repository.active_bookings_of_slot(session, slot.id)
                     if repository.leave_booked(session, b.id, BookingStatus.CANCELLED, cancelled_at=now,
                                                cancelled_by=principal.user_id, cancel_reason="slot_cancelled")]
        repository.release_places(session, slot.id, len(cancelled), now)
        for booking in cancelled:
            session.refresh(booking)
            booking_payments.release(session, booking, refund=True)
            _fact(session, "booking.cancelled", booking, slot, reason="slot_cancelled", late=False)
    session.refresh(slot)
    return slot


# --- reading ----------------------------------------------------------------------------------


def booking_reads(session: Session, bookings: list[Booking]) -> list[BookingRead]:
    slots = repository.slots_by_ids(session, {b.slot_id for b in bookings})
    return [BookingRead(**_fields(b, slots[b.slot_id])) for b in bookings]


def staff_booking_reads(session: Session, bookings: list[Booking]) -> list[StaffBookingRead]:
    slots = repository.slots_by_ids(session, {b.slot_id for b in bookings})
    names = repository.display_names(session, {b.consumer_id for b in bookings})
    return [StaffBookingRead(**_fields(b, slots[b.slot_id]), consumer_id=b.consumer_id,
                             consumer_name=names.get(b.consumer_id, "")) for b in bookings]


def _fields(booking: Booking, slot: BookingSlot) -> dict:
    return dict(id=booking.id, slot_id=booking.slot_id, store_id=booking.store_id,
                service_item_id=booking.service_item_id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                status=booking.status, payment=booking.payment, voucher_id=booking.voucher_id,
                order_id=booking.order_id, cancel_reason=booking.cancel_reason, cancelled_at=booking.cancelled_at,
                marked_at=booking.marked_at, created_at=booking.created_at)


def my_bookings(session: Session, principal: Principal, params: PageParams) -> tuple[list[BookingRead], str | None]:
    require_login(principal)
    rows, cursor = fetch_page(session, repository.consumer_bookings_query(principal.user_id), Booking.id, params)
    return booking_reads(session, rows), cursor


def store_bookings(session: Session, principal: Principal, store_id: int, params: PageParams, *, start, end,
                   status: BookingStatus | None) -> tuple[list[StaffBookingRead], str | None]:
    store = stores.get_store(session, store_id)
    authorize(principal, Action.CONSOLE_VIEW, store.merchant_id)
    stmt = repository.store_bookings_query(store.id, start, end, status)
    rows, cursor = fetch_page(session, stmt, Booking.id, params)
    return staff_booking_reads(session, rows), cursor
