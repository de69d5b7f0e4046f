"""Booking with `pay_online`: an order is placed with the booking and paid through a real provider flow."""

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from daodian.bookings.models import Booking, BookingSlot
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.orders.models import Order
from daodian.vouchers.models import Voucher
from tests.factories import auth, make_slot, make_user
from tests.orders.helpers import LiveShop, in_parallel, key, post, sandbox_notify, start_sandbox, statuses
from tests.payments.reconcile import assert_books_balance

PAY_ONLINE = {"payment": "pay_online"}


def _book(client, slot_id: int, headers: dict):
    return client.post(f"/api/v1/slots/{slot_id}/bookings", json=PAY_ONLINE, headers=headers)


def _booked(db, slot_id: int) -> int:
    db.expire_all()
    return db.get(BookingSlot, slot_id).booked


def test_paying_the_bookings_order_links_its_voucher_and_verifying_it_marks_attendance(client, db, settings, shop, me):
    slot = make_slot(db, shop.store, shop.item, capacity=2)
    booked = _book(client, slot.id, me)
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["payment"] == "pay_online" and booking["voucher_id"] is None and booking["order_id"]
    assert _booked(db, slot.id) == 1  # the place is held while the order waits for its money
    order = client.get(f"/api/v1/orders/{booking['order_id']}", headers=me).json()
    assert (order["status"], order["total_fen"], order["store_id"]) == ("created", 19900, shop.store.id)
    assert [ln["service_item_id"] for ln in order["lines"]] == [shop.item.id]

    payment = start_sandbox(client, me, order["id"])
    assert sandbox_notify(client, settings, payment).status_code == 200
    paid = client.get(f"/api/v1/bookings/{booking['id']}", headers=me).json()
    voucher = db.scalars(select(Voucher).where(Voucher.order_id == order["id"])).one()
    assert paid["status"] == "booked" and paid["voucher_id"] == voucher.id
    assert [f.payload["booking_id"] for f in db.scalars(select(Fact).where(Fact.kind == "booking.paid"))] == [
        booking["id"]]

    verified = client.post("/api/v1/vouchers/verify", json={"code": voucher.code, "store_id": shop.store.id},
                           headers=auth(db, shop.clerk))
    assert verified.status_code == 200, verified.text
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=me).json()["status"] == "attended"
    books = assert_books_balance(db, {shop.merchant.id})
    assert (books.payments_fen, books.vouchers, books.verifications, books.bookings) == (19900, 1, 1, 1)


def test_an_unpaid_order_past_its_deadline_gives_the_place_back(client, db, shop, me):
    slot = make_slot(db, shop.store, shop.item, capacity=1)
    booking = _book(client, slot.id, me).json()
    other = auth(db, make_user(db))
    full = _book(client, slot.id, other)
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"  # held while payable

    db.get(Order, booking["order_id"]).expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    taken = _book(client, slot.id, other)  # the full slot expires the overdue order first
    assert taken.status_code == 201, taken.text
    first = client.get(f"/api/v1/bookings/{booking['id']}", headers=me).json()
    assert (first["status"], first["cancel_reason"]) == ("cancelled", "unpaid")
    assert client.get(f"/api/v1/orders/{booking['order_id']}", headers=me).json()["status"] == "expired"
    late = client.post(f"/api/v1/orders/{booking['order_id']}/pay", json={"provider": "sandbox"}, headers={**me, **key()})
    assert late.status_code == 409 and late.json()["error"]["code"] == "order_expired"
    assert _booked(db, slot.id) == 1
    assert_books_balance(db, {shop.merchant.id})


def test_cancelling_either_side_cancels_the_other(client, db, shop, me):
    slot = make_slot(db, shop.store, shop.item, capacity=3)
    by_booking = _book(client, slot.id, me).json()
    cancelled = client.post(f"/api/v1/bookings/{by_booking['id']}/cancel", headers=me)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.get(f"/api/v1/orders/{by_booking['order_id']}", headers=me).json()["status"] == "cancelled"

    by_order = _book(client, slot.id, me).json()
    assert by_order["order_id"] != by_booking["order_id"]
    assert client.post(f"/api/v1/orders/{by_order['order_id']}/cancel", headers=me).status_code == 200
    after = client.get(f"/api/v1/bookings/{by_order['id']}", headers=me).json()
    assert (after["status"], after["cancel_reason"]) == ("cancelled", "unpaid")
    assert _booked(db, slot.id) == 0
    assert_books_balance(db, {shop.merchant.id})


def test_cancelling_a_paid_booking_keeps_the_voucher(client, db, settings, shop, me):
    slot, later = (make_slot(db, shop.store, shop.item, starts_at=utcnow() + timedelta(days=d)) for d in (3, 4))
    booking = _book(client, slot.id, me).json()
    payment = start_sandbox(client, me, booking["order_id"])
    assert sandbox_notify(client, settings, payment).status_code == 200
    assert client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=me).status_code == 200
    order = client.get(f"/api/v1/orders/{booking['order_id']}", headers=me).json()
    assert order["status"] == "voucher_issued"  # the money stays; the voucher is the consumer's
    voucher = db.scalars(select(Voucher).where(Voucher.order_id == booking["order_id"])).one()
    again = client.post(f"/api/v1/slots/{later.id}/bookings", json={"payment": "voucher", "voucher_code": voucher.code},
                        headers=me)
    assert again.status_code == 201 and again.json()["voucher_id"] == voucher.id
    assert assert_books_balance(db, {shop.merchant.id}).bookings == 1


def test_a_consumer_pays_on_booking_through_the_sandbox_page_on_the_live_server(live_server):
    """The whole asynchronous flow: book, pay, press "Pay" on the sandbox page, the signed notification
    arrives from the sandbox's background thread, and the booking holds the issued voucher."""
    live = LiveShop(live_server)
    with unit_of_work(live_server.session_factory) as session:
        slot_id = make_slot(session, live.shop.store, live.shop.item, capacity=3).id
    me = live.consumer_auth
    with live.client() as http:
        booking = _book(http, slot_id, me).json()
        payment = http.post(f"/api/v1/orders/{booking['order_id']}/pay", json={"provider": "sandbox"},
                            headers={**me, **key()}).json()
        url = urlsplit(payment["pay_url"])
        token = parse_qs(url.query)["token"][0]
        pressed = post(f"{live.url}{url.path}", data={"token": token, "outcome": "pay"})
        assert pressed.status_code == 202, pressed.text
        deadline = time.monotonic() + 15
        while (current := http.get(f"/api/v1/bookings/{booking['id']}", headers=me).json())["voucher_id"] is None:
            assert time.monotonic() < deadline, "the sandbox notification never arrived"
            time.sleep(0.1)
        assert http.get(f"/api/v1/orders/{booking['order_id']}", headers=me).json()["status"] == "voucher_issued"
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert session.get(Booking, booking["id"]).voucher_id == current["voucher_id"]
        books = assert_books_balance(session, {live.shop.merchant.id})
    assert (books.payments_fen, books.vouchers, books.bookings) == (19900, 1, 1)


def test_parallel_retries_of_a_pay_online_booking_leave_one_booking_and_one_payable_order(live_server):
    live = LiveShop(live_server)
    with unit_of_work(live_server.session_factory) as session:
        slot_id = make_slot(session, live.shop.store, live.shop.item, capacity=5).id
    with live.client() as http:
        responses = in_parallel(10, lambda _: _book(http, slot_id, live.consumer_auth))
    assert statuses(responses) == {201: 1, 200: 9}, [r.text for r in responses][:3]
    assert len({r.json()["id"] for r in responses}) == 1
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        orders = session.scalars(select(Order).where(Order.merchant_id == live.shop.merchant.id)).all()
        assert [o.id for o in orders if o.status == "created"] == [responses[0].json()["order_id"]]
        assert session.get(BookingSlot, slot_id).booked == 1
        assert_books_balance(session, {live.shop.merchant.id})
