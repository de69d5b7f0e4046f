"""Real parallel clients against a real server (uvicorn, its own database), on both backends."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from daodian.kit.db import unit_of_work
from daodian.orders.booking_models import Booking, BookingSlot, BookingStatus
from tests.factories import make_item, make_merchant, make_slot, make_store, make_user, token_for


def in_parallel(n: int, call) -> list[httpx.Response]:
    """Run call(i) for i in range(n) from n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def _live_slot(live_server, capacity: int, consumers: int):
    with unit_of_work(live_server.session_factory) as s:
        merchant = make_merchant(s, make_user(s))
        store = make_store(s, merchant)
        slot = make_slot(s, store, make_item(s, merchant, [store.id]), capacity=capacity)
        tokens = [token_for(s, make_user(s)) for _ in range(consumers)]
    return slot, [{"Authorization": f"Bearer {t}"} for t in tokens]


def _state(live_server, slot_id) -> tuple[int, int]:
    with unit_of_work(live_server.session_factory, read_only=True) as s:
        booked = s.scalar(select(BookingSlot.booked).where(BookingSlot.id == slot_id))
        live = s.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == slot_id,
                                                                        Booking.status == BookingStatus.BOOKED))
    return booked, live


def test_50_parallel_bookings_for_5_places(live_server, http):
    slot, headers = _live_slot(live_server, capacity=5, consumers=50)
    url = f"/api/v1/slots/{slot.id}/bookings"
    responses = in_parallel(50, lambda i: http.post(url, json={"payment": "pay_at_store"}, headers=headers[i]))
    assert Counter(r.status_code for r in responses) == {201: 5, 409: 45}, [r.text for r in responses][:3]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"slot_full"}
    assert _state(live_server, slot.id) == (5, 5)


def test_parallel_retries_of_one_booking_hold_one_place(live_server, http):
    slot, [headers] = _live_slot(live_server, capacity=5, consumers=1)
    url = f"/api/v1/slots/{slot.id}/bookings"
    responses = in_parallel(10, lambda _: http.post(url, json={"payment": "pay_at_store"}, headers=headers))
    assert Counter(r.status_code for r in responses) == {201: 1, 200: 9}
    assert len({r.json()["id"] for r in responses}) == 1
    assert _state(live_server, slot.id) == (1, 1)


def test_parallel_cancellations_and_bookings_keep_the_count(live_server, http):
    slot, headers = _live_slot(live_server, capacity=3, consumers=13)
    url = f"/api/v1/slots/{slot.id}/bookings"
    first = [http.post(url, json={"payment": "pay_at_store"}, headers=headers[i]).json()["id"] for i in range(3)]

    def act(i):
        if i < 3:  # the three holders cancel (twice each, in parallel) ...
            return http.post(f"/api/v1/bookings/{first[i]}/cancel", headers=headers[i])
        if i < 6:
            return http.post(f"/api/v1/bookings/{first[i - 3]}/cancel", headers=headers[i - 3])
        return http.post(url, json={"payment": "pay_at_store"}, headers=headers[i - 3])  # ... while ten others book

    responses = in_parallel(16, act)
    assert all(r.status_code in (200, 201, 409) for r in responses), [r.text for r in responses]
    booked, live = _state(live_server, slot.id)
    assert booked == live <= 3
    assert sum(r.status_code == 201 for r in responses[6:]) == live
