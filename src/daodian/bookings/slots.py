"""Stores publish bookable time slots of their service items, one at a time or as a weekly pattern."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize
from daodian.bookings import repository
from daodian.bookings.errors import CapacityBelowBooked, ItemNotOfferedAtStore, SlotClosed, SlotExists, SlotNotFound
from daodian.bookings.models import BookingSlot, SlotStatus
from daodian.bookings.schemas import SlotCreate, SlotRead, WeeklySlotsCreate
from daodian.kit.clock import utcnow
from daodian.merchants import stores
from daodian.merchants.models import ServiceItem, Store
from daodian.taxonomy.models import CatalogStatus


def managed_store(session: Session, principal: Principal, store_id: int) -> Store:
    store = stores.get_store(session, store_id)
    authorize(principal, Action.STORE_MANAGE, store.merchant_id)
    return store


def get_slot(session: Session, slot_id: int) -> BookingSlot:
    slot = session.get(BookingSlot, slot_id)
    if slot is None:
        raise SlotNotFound()
    return slot


def _check_item(session: Session, store: Store, item_id: int) -> None:
    """The item must be the store merchant's, on sale, and offered at this very store."""
    item = session.get(ServiceItem, item_id)
    if (item is None or item.merchant_id != store.merchant_id or item.status != CatalogStatus.ACTIVE
            or not repository.item_offered_at(session, store.id, item.id)):
        raise ItemNotOfferedAtStore(details={"service_item_id": item_id})


def publish_slot(session: Session, principal: Principal, store_id: int, data: SlotCreate) -> BookingSlot:
    store = managed_store(session, principal, store_id)
    _check_item(session, store, data.service_item_id)
    if repository.slot_starts(session, store.id, data.service_item_id, data.starts_at, data.starts_at):
        raise SlotExists()
    slot = BookingSlot(merchant_id=store.merchant_id, store_id=store.id, service_item_id=data.service_item_id,
                       starts_at=data.starts_at, ends_at=data.ends_at, capacity=data.capacity, booked=0)
    session.add(slot)
    session.flush()
    return slot


def pattern_times(data: WeeklySlotsCreate, timezone: str) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC of every slot the pattern describes, read in the store's local time."""
    zone = ZoneInfo(timezone)
    times = sorted(t.bounds() for t in data.times)
    return [(datetime.combine(day, start, zone).astimezone(UTC), datetime.combine(day, end, zone).astimezone(UTC))
            for day in data.days() for start, end in times]


def publish_weekly(session: Session, principal: Principal, store_id: int,
                   data: WeeklySlotsCreate) -> tuple[list[BookingSlot], int]:
    """(slots created, how many were skipped). Slots that exist already or lie in the past are skipped,
    so publishing the same pattern twice is harmless."""
    store = managed_store(session, principal, store_id)
    _check_item(session, store, data.service_item_id)
    wanted = pattern_times(data, store.timezone)
    now = utcnow()
    starts = [s for s, _ in wanted]
    existing = (repository.slot_starts(session, store.id, data.service_item_id, min(starts), max(starts))
                if starts else set())
    fresh = [(s, e) for s, e in wanted if s > now and s not in existing]
    slots = [BookingSlot(merchant_id=store.merchant_id, store_id=store.id, service_item_id=data.service_item_id,
                         starts_at=s, ends_at=e, capacity=data.capacity, booked=0) for s, e in fresh]
    session.add_all(slots)
    session.flush()
    return slots, len(wanted) - len(fresh)


def list_slots(session: Session, principal: Principal, store_id: int, start: datetime, end: datetime,
               service_item_id: int | None) -> list[BookingSlot]:
    """Open slots of a listed store starting in [start, end)."""
    store = stores.visible_store(session, principal, store_id)
    return repository.open_slots(session, store.id, start, end, service_item_id)


def set_capacity(session: Session, principal: Principal, slot_id: int, capacity: int) -> BookingSlot:
    slot = get_slot(session, slot_id)
    authorize(principal, Action.STORE_MANAGE, slot.merchant_id)
    if not repository.set_capacity_if_fits(session, slot.id, capacity, utcnow()):
        session.refresh(slot)
        if slot.status != SlotStatus.OPEN:
            raise SlotClosed()
        raise CapacityBelowBooked(details={"booked": slot.booked})
    session.refresh(slot)
    return slot


def slot_read(slot: BookingSlot) -> SlotRead:
    return SlotRead(id=slot.id, store_id=slot.store_id, service_item_id=slot.service_item_id,
                    starts_at=slot.starts_at, ends_at=slot.ends_at, capacity=slot.capacity, booked=slot.booked,
                    remaining=max(slot.capacity - slot.booked, 0), status=slot.status)
