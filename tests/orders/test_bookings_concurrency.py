"""Real parallel clients against a real server (uvicorn, its own database), on both backends."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from daodian.bookings.models import Booking, BookingSlot, BookingStatus
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from tests.factories import make_item, make_merchant, make_slot, make_store, make_user, token_for
from tests.orders.helpers import new_client
from tests.payments.reconcile import assert_books_balance


def in_parallel(n: int, call) -> list[httpx.Response]:
    """Run call(i) for i in range(n) from n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def _balanced(live_server, merchant_id: int):
    with unit_of_work(live_server.session_factory, read_only=True) as s:
        return assert_books_balance(s, {merchant_id})


@pytest.fixture
def http(live_server):
    with new_client(live_server.url) as client:
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


def test_1000_bookings_race_for_10_slots_of_3_and_exactly_30_win(live_server):
    """1,000 consumers, each on its own connection and thread, released together; 100 per slot."""
    with unit_of_work(live_server.session_factory) as s:
        merchant = make_merchant(s, make_user(s))
        store = make_store(s, merchant)
        item = make_item(s, merchant, [store.id])
        slot_ids = [make_slot(s, store, item, capacity=3, starts_at=utcnow() + timedelta(days=2, hours=h)).id
                    for h in range(10)]
        tokens = [token_for(s, make_user(s)) for _ in range(1000)]
        merchant_id = merchant.id

    # Clients are made before the race: making one costs CPU (an SSL context) this process shares with the server.
    clients = [new_client(live_server.url, timeout=120) for _ in range(1000)]

    def book(i: int) -> httpx.Response:
        return clients[i].post(f"/api/v1/slots/{slot_ids[i % 10]}/bookings", json={"payment": "pay_at_store"},
                               headers={"Authorization": f"Bearer {tokens[i]}"})

    started = time.monotonic()
    try:
        responses = in_parallel(1000, book)
    finally:
        for client in clients:
            client.close()
    elapsed = time.monotonic() - started
    assert Counter(r.status_code for r in responses) == {201: 30, 409: 970}, [r.text for r in responses
                                                                             if r.status_code not in (201, 409)][:3]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"slot_full"}
    assert Counter(r.json()["slot_id"] for r in responses if r.status_code == 201) == {sid: 3 for sid in slot_ids}
    for slot_id in slot_ids:
        assert _state(live_server, slot_id) == (3, 3)
    assert _balanced(live_server, merchant_id).bookings == 30
    print(f"\n1000 bookings in {elapsed:.1f}s ({1000 / elapsed:.0f}/s)")
