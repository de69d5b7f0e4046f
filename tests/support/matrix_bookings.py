"""Authorization-matrix entries (see tests/support/matrix.py) for booking slots and bookings."""

from datetime import UTC, datetime, timedelta

from daodian.bookings import service as bookings
from daodian.bookings.schemas import BookingCreate
from daodian.kit.clock import utcnow
from daodian.kit.settings import get_settings
from tests.factories import make_slot, principal_of
from tests.support.matrix import CONSUMER_WORLDS, shop
from tests.support.matrix_orders import customer


def _days_ahead_at_10_shanghai(days: int) -> datetime:
    day = (utcnow() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


def _slot_id(scene, world) -> int:
    objects = shop(scene, world).objects
    return make_slot(scene.db, objects["store"], objects["item"], starts_at=_days_ahead_at_10_shanghai(3)).id


def _booking_id(scene, world) -> int:
    """Consumer worlds: a booking three days ahead (still free to cancel). Merchant worlds: consumer A's
    booking of a slot starting in half an hour (the counter may mark it attended)."""
    objects = shop(scene, world).objects
    soon = world.kind == "merchant"
    hour = 1 + CONSUMER_WORLDS.index(world.name) if world.name in CONSUMER_WORLDS else 0  # A and B share a store
    starts_at = utcnow() + timedelta(minutes=30) if soon else _days_ahead_at_10_shanghai(3) + timedelta(hours=hour)
    slot = make_slot(scene.db, objects["store"], objects["item"], starts_at=starts_at)
    consumer = principal_of(scene.db, customer(scene, world))
    booking, _ = bookings.book(scene.db, consumer, slot.id, BookingCreate(payment="pay_at_store"), get_settings())
    return booking.id


def _new_slot(scene, world) -> dict:
    starts_at = _days_ahead_at_10_shanghai(5)
    return {"service_item_id": world.objects["item"].id, "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=1)).isoformat(), "capacity": 4}


def _weekly_slots(scene, world) -> dict:
    start = (utcnow() + timedelta(days=7)).date()
    return {"service_item_id": world.objects["item"].id, "from_date": start.isoformat(),
            "to_date": (start + timedelta(days=6)).isoformat(), "weekdays": [1, 3, 5],
            "times": [{"start": "10:00", "end": "11:00"}], "capacity": 3}


PARAMS = {
    "slot_id": _slot_id,
    "booking_id": _booking_id,
}

BODIES = {
    "POST /api/v1/stores/{store_id}/slots": _new_slot,
    "POST /api/v1/stores/{store_id}/slots/weekly": _weekly_slots,
    "PATCH /api/v1/slots/{slot_id}": {"capacity": 8},
    "POST /api/v1/slots/{slot_id}/bookings": {"payment": "pay_at_store"},
    "POST /api/v1/bookings/{booking_id}/attendance": {"status": "attended"},
}
