from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from daodian.accounts.models import StaffRole
from daodian.bookings import service as bookings
from daodian.bookings.models import Booking, BookingSlot
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from tests.factories import (
    add_staff,
    auth,
    make_item,
    make_merchant,
    make_slot,
    make_store,
    make_user,
    make_voucher,
    verify_voucher,
)

PAY_AT_STORE = {"payment": "pay_at_store"}


@pytest.fixture
def shop(db):
    owner = make_user(db)
    merchant = make_merchant(db, owner)
    store = make_store(db, merchant)
    item = make_item(db, merchant, [store.id])
    clerk = make_user(db)
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    return dict(owner=owner, merchant=merchant, store=store, item=item, clerk=clerk)


@pytest.fixture
def free_cancel_hours(monkeypatch, settings):
    """Set DAODIAN_BOOKING_FREE_CANCEL_HOURS (the app's settings) for one test."""
    def set_hours(hours: float):
        monkeypatch.setattr(settings, "booking_free_cancel_hours", hours)
    return set_hours


def _book(client, db, slot, user, body=PAY_AT_STORE):
    return client.post(f"/api/v1/slots/{slot.id}/bookings", json=body, headers=auth(db, user))


def _slot(db, slot_id) -> BookingSlot:
    db.expire_all()
    return db.get(BookingSlot, slot_id)


def _facts(db, kind) -> list[Fact]:
    return db.scalars(select(Fact).where(Fact.kind == kind).order_by(Fact.id)).all()


def test_a_consumer_books_and_a_retry_returns_the_same_booking(client, db, shop):
    slot = make_slot(db, shop["store"], shop["item"], capacity=2)
    consumer = make_user(db)
    first, again = _book(client, db, slot, consumer), _book(client, db, slot, consumer)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert first.json() == again.json() and first.json()["status"] == "booked"
    assert first.json()["payment"] == "pay_at_store" and first.json()["starts_at"]
    assert _slot(db, slot.id).booked == 1
    [fact] = _facts(db, "booking.created")
    assert fact.consumer_id == consumer.id and fact.payload["slot_id"] == slot.id
    mine = client.get("/api/v1/me/bookings", headers=auth(db, consumer)).json()["items"]
    assert [b["id"] for b in mine] == [first.json()["id"]]


def test_a_full_slot_refuses_and_capacity_holds(client, db, shop):
    slot = make_slot(db, shop["store"], shop["item"], capacity=2)
    results = [_book(client, db, slot, make_user(db)) for _ in range(4)]
    assert [r.status_code for r in results] == [201, 201, 409, 409]
    assert {r.json()["error"]["code"] for r in results[2:]} == {"slot_full"}
    assert _slot(db, slot.id).booked == 2


def test_the_database_itself_refuses_overbooking(db, shop):
    slot = make_slot(db, shop["store"], shop["item"], capacity=1)
    for value in ("capacity + 1", "-1"):
        with pytest.raises(IntegrityError), db.begin_nested():
            db.execute(update(BookingSlot).where(BookingSlot.id == slot.id).values(booked=text(value)))


def test_started_or_withdrawn_slots_take_no_bookings(client, db, shop):
    started = make_slot(db, shop["store"], shop["item"], starts_at=utcnow() - timedelta(minutes=1))
    response = _book(client, db, started, make_user(db))
    assert response.status_code == 409 and response.json()["error"]["code"] == "slot_started"
    withdrawn = make_slot(db, shop["store"], shop["item"])
    assert client.post(f"/api/v1/slots/{withdrawn.id}/cancel", headers=auth(db, shop["owner"])).status_code == 200
    response = _book(client, db, withdrawn, make_user(db))
    assert response.status_code == 409 and response.json()["error"]["code"] == "slot_closed"
    missing = client.post("/api/v1/slots/999999999/bookings", json=PAY_AT_STORE, headers=auth(db, make_user(db)))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "slot_not_found"


@pytest.mark.parametrize("body", [{}, {"payment": "cash"}, {"payment": "voucher"},
                                  {"payment": "pay_at_store", "voucher_code": "ABCD1234"}])
def test_booking_validation(client, db, shop, body):
    slot = make_slot(db, shop["store"], shop["item"])
    response = _book(client, db, slot, make_user(db), body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_a_consumer_cancels_free_before_the_window(client, db, shop, free_cancel_hours):
    free_cancel_hours(24)
    slot = make_slot(db, shop["store"], shop["item"], starts_at=utcnow() + timedelta(hours=30), capacity=1)
    consumer = make_user(db)
    booking = _book(client, db, slot, consumer).json()
    url = f"/api/v1/bookings/{booking['id']}/cancel"
    assert client.post(url, headers=auth(db, make_user(db))).status_code == 404  # someone else's
    cancelled = client.post(url, headers=auth(db, consumer))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "consumer"
    assert client.post(url, headers=auth(db, consumer)).json() == cancelled.json()  # again: unchanged
    assert _slot(db, slot.id).booked == 0
    assert [f.payload["reason"] for f in _facts(db, "booking.cancelled")] == ["consumer"]
    assert _book(client, db, slot, make_user(db)).status_code == 201  # the place is free again


def test_late_cancellation_is_for_staff_only(client, db, shop, free_cancel_hours):
    free_cancel_hours(24)
    slot = make_slot(db, shop["store"], shop["item"], starts_at=utcnow() + timedelta(hours=3))
    consumer = make_user(db)
    booking = _book(client, db, slot, consumer).json()
    url = f"/api/v1/bookings/{booking['id']}/cancel"
    late = client.post(url, headers=auth(db, consumer))
    assert late.status_code == 409 and late.json()["error"]["code"] == "cancellation_window_passed"
    assert _slot(db, slot.id).booked == 1
    by_staff = client.post(url, headers=auth(db, shop["clerk"]))
    assert by_staff.status_code == 200 and by_staff.json()["cancel_reason"] == "staff"
    assert _slot(db, slot.id).booked == 0
    assert _facts(db, "booking.cancelled")[0].payload["late"] is True


def test_the_window_is_configurable(client, db, shop, free_cancel_hours):
    free_cancel_hours(1)
    slot = make_slot(db, shop["store"], shop["item"], starts_at=utcnow() + timedelta(hours=3))
    consumer = make_user(db)
    booking = _book(client, db, slot, consumer).json()
    assert client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=auth(db, consumer)).status_code == 200


def _start_now(db, slot) -> None:
    """Move a booked slot's start into the past (booking refuses started slots, marking needs them)."""
    db.execute(update(BookingSlot).where(BookingSlot.id == slot.id).values(
        starts_at=utcnow() - timedelta(minutes=10), ends_at=utcnow() + timedelta(minutes=50)))
    db.flush()


def test_no_shows_are_marked_after_the_start_and_counted(client, db, shop):
    consumer = make_user(db)
    booked = []
    for _ in range(3):
        slot = make_slot(db, shop["store"], shop["item"], starts_at=utcnow() + timedelta(days=1))
        booked.append((slot, _book(client, db, slot, consumer).json()["id"]))
    slot, booking_id = booked[0]
    url = f"/api/v1/bookings/{booking_id}/attendance"
    early = client.post(url, json={"status": "no_show"}, headers=auth(db, shop["clerk"]))
    assert early.status_code == 409 and early.json()["error"]["code"] == "slot_not_started"
    assert client.post(url, json={"status": "no_show"}, headers=auth(db, consumer)).status_code == 403
    assert client.post(url, json={"status": "gone"}, headers=auth(db, shop["clerk"])).status_code == 422
    for slot, booking_id in booked:
        _start_now(db, slot)
        marked = client.post(f"/api/v1/bookings/{booking_id}/attendance", json={"status": "no_show"},
                             headers=auth(db, shop["clerk"]))
        assert marked.status_code == 200 and marked.json()["status"] == "no_show"
    assert len(_facts(db, "booking.no_show")) == 3
    again = client.post(url, json={"status": "no_show"}, headers=auth(db, shop["clerk"]))
    assert again.status_code == 200  # idempotent
    other = client.post(url, json={"status": "attended"}, headers=auth(db, shop["clerk"]))
    assert other.status_code == 409 and other.json()["error"]["code"] == "booking_not_active"
    cancel = client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=auth(db, shop["clerk"]))
    assert cancel.status_code == 409 and cancel.json()["error"]["code"] == "booking_not_active"
    # Three no-shows: pay-at-store bookings are refused (money-backed ones would still be fine).
    refused = _book(client, db, make_slot(db, shop["store"], shop["item"]), consumer)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "too_many_no_shows"


def test_attendance_is_marked_from_shortly_before_the_start(client, db, shop):
    slot = make_slot(db, shop["store"], shop["item"], starts_at=utcnow() + timedelta(minutes=30))
    booking = _book(client, db, slot, make_user(db)).json()
    response = client.post(f"/api/v1/bookings/{booking['id']}/attendance", json={"status": "attended"},
                           headers=auth(db, shop["clerk"]))
    assert response.status_code == 200 and response.json()["status"] == "attended"
    assert _facts(db, "booking.attended")[0].payload["booking_id"] == booking["id"]
    assert _slot(db, slot.id).booked == 1  # the place was used


def test_withdrawing_a_slot_cancels_its_bookings(client, db, shop):
    slot = make_slot(db, shop["store"], shop["item"], capacity=3)
    ids = [_book(client, db, slot, make_user(db)).json()["id"] for _ in range(2)]
    assert client.post(f"/api/v1/slots/{slot.id}/cancel", headers=auth(db, shop["clerk"])).status_code == 403
    response = client.post(f"/api/v1/slots/{slot.id}/cancel", headers=auth(db, shop["owner"]))
    assert response.status_code == 200 and response.json()["status"] == "cancelled" and response.json()["booked"] == 0
    db.expire_all()
    assert {db.get(Booking, i).cancel_reason for i in ids} == {"slot_cancelled"}
    assert len(_facts(db, "booking.cancelled")) == 2


def test_staff_see_the_stores_bookings(client, db, shop):
    slot = make_slot(db, shop["store"], shop["item"])
    consumer = make_user(db, name="小李")
    booking = _book(client, db, slot, consumer).json()
    url = f"/api/v1/stores/{shop['store'].id}/bookings"
    listed = client.get(url, headers=auth(db, shop["clerk"])).json()["items"]
    assert [(b["id"], b["consumer_name"]) for b in listed] == [(booking["id"], "小李")]
    window = {"from": (utcnow() + timedelta(days=5)).isoformat()}
    assert client.get(url, params=window, headers=auth(db, shop["clerk"])).json()["items"] == []
    assert client.get(url, params={"status": "cancelled"}, headers=auth(db, shop["clerk"])).json()["items"] == []
    assert client.get(url, headers=auth(db, consumer)).status_code == 403
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=auth(db, shop["clerk"])).status_code == 200
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=auth(db, make_user(db))).status_code == 404


def test_a_voucher_backs_one_live_booking(client, db, shop, settings):
    consumer = make_user(db)
    voucher = make_voucher(db, settings, consumer, shop["item"], shop["store"])
    first, second = (make_slot(db, shop["store"], shop["item"], starts_at=utcnow() + timedelta(days=d)) for d in (2, 3))
    body = {"payment": "voucher", "voucher_code": voucher.code}
    booked = _book(client, db, first, consumer, body)
    assert booked.status_code == 201, booked.text
    assert booked.json()["payment"] == "voucher" and booked.json()["voucher_id"] == voucher.id
    taken = _book(client, db, second, consumer, body)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "voucher_already_booked"
    assert client.post(f"/api/v1/bookings/{booked.json()['id']}/cancel", headers=auth(db, consumer)).status_code == 200
    assert _book(client, db, second, consumer, body).status_code == 201  # released by the cancellation
    assert _slot(db, first.id).booked == 0 and _slot(db, second.id).booked == 1


def test_only_ones_own_usable_voucher_for_the_item(client, db, shop, settings):
    consumer = make_user(db)
    slot = make_slot(db, shop["store"], shop["item"])
    theirs = make_voucher(db, settings, make_user(db), shop["item"], shop["store"])
    other_item = make_item(db, shop["merchant"], [shop["store"].id])
    wrong_item = make_voucher(db, settings, consumer, other_item, shop["store"])
    expiring = make_voucher(db, settings, consumer, shop["item"], shop["store"])
    expiring.expires_at = slot.starts_at - timedelta(hours=1)  # still valid now, not when the slot starts
    used = make_voucher(db, settings, consumer, shop["item"], shop["store"])
    verify_voucher(db, settings, used, shop["store"], shop["clerk"])
    db.flush()
    for voucher, status, code in ((theirs, 404, "voucher_not_found"), (wrong_item, 422, "voucher_not_for_slot"),
                                  (expiring, 409, "voucher_expired"), (used, 409, "voucher_used_up")):
        response = _book(client, db, slot, consumer, {"payment": "voucher", "voucher_code": voucher.code})
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert _slot(db, slot.id).booked == 0


def test_verifying_the_voucher_marks_the_booking_attended(client, db, shop, settings):
    consumer = make_user(db)
    voucher = make_voucher(db, settings, consumer, shop["item"], shop["store"])
    slot = make_slot(db, shop["store"], shop["item"])
    booking = _book(client, db, slot, consumer, {"payment": "voucher", "voucher_code": voucher.code}).json()
    verify_voucher(db, settings, voucher, shop["store"], shop["clerk"])
    # What vouchers.counter.verify is to call after consuming the use (harmless if it already does).
    bookings.on_voucher_verified(db, voucher.id, shop["clerk"].id)
    db.expire_all()
    assert db.get(Booking, booking["id"]).status == "attended"
    assert [f.payload["booking_id"] for f in _facts(db, "booking.attended")] == [booking["id"]]
    assert bookings.on_voucher_verified(db, voucher.id, shop["clerk"].id) is None  # nothing live any more
