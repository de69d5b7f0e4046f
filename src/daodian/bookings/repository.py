from datetime import datetime

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from daodian.accounts.models import User
from daodian.bookings.models import Booking, BookingPayment, BookingSlot, BookingStatus, SlotStatus
from daodian.merchants.models import StoreItem

MAX_LISTED_SLOTS = 1000


def _update(session: Session, stmt) -> int:
    """Run a conditional UPDATE and return how many rows it changed (the condition is the rule)."""
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount


# --- slots ------------------------------------------------------------------------------------


def item_offered_at(session: Session, store_id: int, item_id: int) -> bool:
    return session.scalar(select(StoreItem.item_id).where(StoreItem.store_id == store_id,
                                                          StoreItem.item_id == item_id)) is not None


def slot_starts(session: Session, store_id: int, item_id: int, lo: datetime, hi: datetime) -> set[datetime]:
    return set(session.scalars(select(BookingSlot.starts_at).where(
        BookingSlot.store_id == store_id, BookingSlot.service_item_id == item_id,
        BookingSlot.starts_at >= lo, BookingSlot.starts_at <= hi)))


def open_slots(session: Session, store_id: int, lo: datetime, hi: datetime, item_id: int | None) -> list[BookingSlot]:
    stmt = select(BookingSlot).where(BookingSlot.store_id == store_id, BookingSlot.status == SlotStatus.OPEN,
                                     BookingSlot.starts_at >= lo, BookingSlot.starts_at < hi)
    if item_id is not None:
        stmt = stmt.where(BookingSlot.service_item_id == item_id)
    return list(session.scalars(stmt.order_by(BookingSlot.starts_at, BookingSlot.id).limit(MAX_LISTED_SLOTS)))


def take_place(session: Session, slot_id: int, now: datetime) -> bool:
    """One place, if one is left: a single conditional UPDATE, so concurrent bookings queue on the row lock
    and each re-checks the count the previous one left (the CHECK constraint backs it up)."""
    return _update(session, update(BookingSlot).where(
        BookingSlot.id == slot_id, BookingSlot.status == SlotStatus.OPEN, BookingSlot.booked < BookingSlot.capacity,
    ).values(booked=BookingSlot.booked + 1, updated_at=now)) == 1


def release_places(session: Session, slot_id: int, count: int, now: datetime) -> None:
    _update(session, update(BookingSlot).where(BookingSlot.id == slot_id, BookingSlot.booked >= count)
            .values(booked=BookingSlot.booked - count, updated_at=now))


def set_capacity_if_fits(session: Session, slot_id: int, capacity: int, now: datetime) -> bool:
    return _update(session, update(BookingSlot).where(
        BookingSlot.id == slot_id, BookingSlot.status == SlotStatus.OPEN, BookingSlot.booked <= capacity,
    ).values(capacity=capacity, updated_at=now)) == 1


def close_slot_if_open(session: Session, slot_id: int, now: datetime) -> bool:
    return _update(session, update(BookingSlot).where(BookingSlot.id == slot_id, BookingSlot.status == SlotStatus.OPEN)
                   .values(status=SlotStatus.CANCELLED, updated_at=now)) == 1


def slots_by_ids(session: Session, ids: set[int]) -> dict[int, BookingSlot]:
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(BookingSlot).where(BookingSlot.id.in_(ids)))}


# --- bookings ---------------------------------------------------------------------------------


def active_booking(session: Session, slot_id: int, consumer_id: int) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.slot_id == slot_id, Booking.consumer_id == consumer_id,
                                                Booking.status == BookingStatus.BOOKED))


def active_bookings_of_slot(session: Session, slot_id: int) -> list[Booking]:
    return list(session.scalars(select(Booking).where(Booking.slot_id == slot_id,
                                                      Booking.status == BookingStatus.BOOKED).order_by(Booking.id)))


_BOOKED_VOUCHERS = select(Booking.voucher_id).where(Booking.voucher_id.in_(bindparam("voucher_ids", expanding=True)),
                                                     Booking.status == BookingStatus.BOOKED)


def booked_voucher_ids(session: Session, voucher_ids: set[int]) -> set[int]:
    """Which of these vouchers back a live booking (one Core read, no entities)."""
    return set(session.execute(_BOOKED_VOUCHERS, {"voucher_ids": list(voucher_ids)}).scalars())


def active_booking_for_voucher(session: Session, voucher_id: int) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.voucher_id == voucher_id,
                                                Booking.status == BookingStatus.BOOKED))


def active_booking_for_order(session: Session, order_id: int) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.order_id == order_id, Booking.status == BookingStatus.BOOKED))


def unpaid_order_ids_of_slot(session: Session, slot_id: int) -> list[int]:
    """Orders behind the slot's live `pay_online` bookings (paid or not: the caller checks)."""
    return list(session.scalars(select(Booking.order_id).where(
        Booking.slot_id == slot_id, Booking.status == BookingStatus.BOOKED, Booking.payment == BookingPayment.PAY_ONLINE,
        Booking.order_id.is_not(None)).order_by(Booking.order_id)))


def leave_booked(session: Session, booking_id: int, status: BookingStatus, **values) -> bool:
    """Move a booking out of `booked` (cancelled / attended / no_show) only if it still is booked."""
    return _update(session, update(Booking).where(Booking.id == booking_id, Booking.status == BookingStatus.BOOKED)
                   .values(status=status, **values)) == 1


def no_shows_since(session: Session, consumer_id: int, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Booking).where(
        Booking.consumer_id == consumer_id, Booking.status == BookingStatus.NO_SHOW, Booking.marked_at >= since))


def consumer_bookings_query(consumer_id: int) -> Select:
    return select(Booking).where(Booking.consumer_id == consumer_id)


def store_bookings_query(store_id: int, lo: datetime | None, hi: datetime | None,
                         status: BookingStatus | None) -> Select:
    stmt = select(Booking).where(Booking.store_id == store_id)
    if lo is not None or hi is not None:
        slots = select(BookingSlot.id).where(BookingSlot.store_id == store_id)
        if lo is not None:
            slots = slots.where(BookingSlot.starts_at >= lo)
        if hi is not None:
            slots = slots.where(BookingSlot.starts_at < hi)
        stmt = stmt.where(Booking.slot_id.in_(slots))
    if status is not None:
        stmt = stmt.where(Booking.status == status)
    return stmt


def display_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
