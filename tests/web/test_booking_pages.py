"""The bookings calendar: a consumer books a time (voucher, online, at the store) and cancels; the store sees the
day's bookings and marks who came and who did not show."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from daodian.bookings.models import Booking, BookingSlot
from daodian.kit.clock import utcnow
from tests.factories import make_shop, make_slot, make_user, make_voucher
from tests.web.support import csrf_from, log_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(db):
    return make_shop(db, name="老王车行")


@pytest.fixture
def consumer(db):
    return make_user(db, name="小李")


def _book(client, shop, slot, **fields):
    path = f"/s/{shop.store.id}/book?item_id={shop.item.id}"
    form = {"csrf_token": csrf_from(client, path), "item_id": str(shop.item.id), "slot_id": str(slot.id), **fields}
    return client.post(f"/s/{shop.store.id}/book", data=form, follow_redirects=False)


def _booking(db, consumer) -> Booking:
    db.expire_all()
    return db.scalars(select(Booking).where(Booking.consumer_id == consumer.id)).one()


def test_a_consumer_books_with_a_voucher_sees_it_and_cancels(client, db, settings, shop, consumer):
    slot = make_slot(db, shop.store, shop.item, starts_at=utcnow() + timedelta(days=2), capacity=2)
    voucher = make_voucher(db, settings, consumer, shop.item, shop.store)
    page = client.get(f"/s/{shop.store.id}/book", params={"item_id": shop.item.id})
    assert page.status_code == 200 and f'data-testid="slot-{slot.id}"' in page.text and "登录后预约" in page.text
    log_in(client, db, consumer)
    page = client.get(f"/s/{shop.store.id}/book", params={"item_id": shop.item.id})
    assert "剩 2 个" in page.text and 'data-testid="pay-with-voucher"' in page.text

    response = _book(client, shop, slot, payment="voucher", voucher_code=voucher.code)
    assert response.status_code == 303 and response.headers["location"].startswith("/bookings?booked=")
    booking = _booking(db, consumer)
    assert booking.voucher_id == voucher.id and db.get(BookingSlot, slot.id).booked == 1
    mine = client.get(response.headers["location"])
    assert "预约成功" in mine.text and 'data-status="booked"' in mine.text

    cancel = client.post(f"/bookings/{booking.id}/cancel", data={"csrf_token": csrf_from(client, "/bookings")},
                         follow_redirects=False)
    assert cancel.status_code == 303
    db.expire_all()
    assert db.get(Booking, booking.id).status == "cancelled" and db.get(BookingSlot, slot.id).booked == 0


def test_paying_online_for_a_booking_goes_to_the_sandbox_and_a_full_slot_says_so(client, db, shop, consumer):
    slot = make_slot(db, shop.store, shop.item, capacity=1)
    log_in(client, db, consumer)
    response = _book(client, shop, slot, payment="pay_online")
    assert response.status_code == 303 and "/sandbox/pay/" in response.headers["location"]
    assert _booking(db, consumer).order_id is not None

    log_in(client, db, make_user(db, name="晚到的人"))
    full = _book(client, shop, slot, payment="pay_at_store")
    assert full.status_code == 422 and "该时段已约满" in full.text
    assert _book(client, shop, slot, payment="voucher", voucher_code="ABCD-EFGH-JKMN").status_code == 422


def test_the_store_sees_the_day_and_marks_no_shows_after_the_start(client, db, shop, consumer):
    slot = make_slot(db, shop.store, shop.item, starts_at=utcnow() + timedelta(hours=3))
    log_in(client, db, consumer)
    assert _book(client, shop, slot, payment="pay_at_store").status_code == 303
    booking = _booking(db, consumer)

    log_in(client, db, shop.clerk)
    day = slot.starts_at.astimezone(ZoneInfo(shop.store.timezone)).date().isoformat()
    page = client.get(f"/merchant/counter/{shop.store.id}/bookings", params={"day": day})
    assert page.status_code == 200 and f'data-testid="booking-{booking.id}"' in page.text and "小李" in page.text
    assert 'data-testid="mark-no-show"' not in page.text  # not before the start

    csrf = csrf_from(client, f"/merchant/counter/{shop.store.id}/bookings")
    early = client.post(f"/merchant/bookings/{booking.id}/attendance", data={"csrf_token": csrf, "status": "no_show"},
                        headers=HTMX)
    assert early.status_code == 422 and "预约时间开始后才能登记爽约" in early.text

    db.get(BookingSlot, slot.id).starts_at = utcnow() - timedelta(minutes=10)
    db.get(BookingSlot, slot.id).ends_at = utcnow() + timedelta(minutes=50)
    db.flush()
    marked = client.post(f"/merchant/bookings/{booking.id}/attendance", data={"csrf_token": csrf, "status": "no_show"},
                         headers=HTMX)
    assert marked.status_code == 200 and re.search(r'data-status="no_show"', marked.text) and "<html" not in marked.text
    db.expire_all()
    assert db.get(Booking, booking.id).status == "no_show"

    log_in(client, db, make_user(db, name="路人"))
    assert client.get(f"/merchant/counter/{shop.store.id}/bookings").status_code == 403
    other = make_shop(db, name="别家车行")
    log_in(client, db, other.clerk)
    csrf = csrf_from(client, f"/merchant/counter/{other.store.id}/bookings")
    response = client.post(f"/merchant/bookings/{booking.id}/attendance",
                           data={"csrf_token": csrf, "status": "attended"})
    assert response.status_code == 403
