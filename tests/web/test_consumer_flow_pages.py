"""The consumer's flow as pages: the checkout's live breakdown is what is charged, the order page itemises it,
"my orders" has its tabs, a refund is asked for with a reason, booking offers only days with times, and a
pre-sale says how the consumer voted."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from daodian.c2b.presale.models import PresaleVote
from daodian.kit.clock import utcnow
from daodian.loyalty import points as ledger
from daodian.orders.models import Order
from daodian.payments.models import Refund
from tests.factories import auth, make_order, make_shop, make_slot, make_user
from tests.marketing.presale_helpers import create_presale
from tests.web.support import csrf_from, english, log_in

FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')
TOTAL = re.compile(r'data-testid="checkout-breakdown-total" data-fen="(\d+)"')


@pytest.fixture
def shop(db):
    return make_shop(db, item_price_fen=19900, name="老王车行")


@pytest.fixture
def consumer(db, client):
    user = make_user(db, name="小李")
    log_in(client, db, user)
    return user


def test_the_checkout_summary_is_what_the_order_charges(client, db, shop, consumer):
    ledger.earn(db, consumer.id, 1234, f"test:{consumer.id}:gift")
    path = f"/buy/item/{shop.item.id}"
    page = client.get(path)
    assert f'hx-post="/buy/item/{shop.item.id}/summary"' in page.text and 'id="checkout-summary"' in page.text
    form = {"csrf_token": csrf_from(client, path), "form_key": FORM_KEY.search(page.text).group(1),
            "store_id": str(shop.store.id), "quantity": "2", "points": "1234"}
    summary = client.post(f"{path}/summary", data=form)
    assert summary.status_code == 200 and 'data-testid="checkout-breakdown-points"' in summary.text
    shown = int(TOTAL.search(summary.text).group(1))
    assert shown == 2 * 19900 - 1234
    assert ledger.balance_of(db, consumer.id) == 1234  # the summary's dry run spent nothing
    assert db.scalar(select(Order.id).where(Order.consumer_id == consumer.id)) is None

    placed = client.post(path, data=form, follow_redirects=False)
    assert placed.status_code == 303
    order = db.scalars(select(Order).where(Order.consumer_id == consumer.id)).one()
    assert order.total_fen == shown and order.points_spent == 1234

    detail = client.get(f"/orders/{order.id}")
    assert 'data-testid="order-points"' in detail.text and 'data-testid="order-total"' in detail.text
    assert f'data-fen="{shown}"' in detail.text and "¥385.66" in detail.text


def test_a_choice_that_cannot_be_placed_says_why_in_the_summary(client, db, shop, consumer):
    path = f"/buy/item/{shop.item.id}"
    form = {"csrf_token": csrf_from(client, path), "store_id": str(shop.store.id), "quantity": "1",
            "points": "500"}
    summary = client.post(f"{path}/summary", data=form)
    assert summary.status_code == 200 and 'data-testid="summary-problem"' in summary.text
    assert "您没有这么多积分" in summary.text or "积分" in summary.text


def test_my_orders_has_tabs_that_filter(client, db, shop, consumer):
    unpaid = make_order(db, consumer, shop=shop)
    paid = make_order(db, consumer, shop=shop, paid=True)
    everything = client.get("/orders")
    assert all(f'data-testid="tab-{t}"' in everything.text for t in ("all", "unpaid", "to_use", "to_review", "refunds"))
    assert "待付款" in everything.text and "退款售后" in everything.text
    to_pay = client.get("/orders", params={"tab": "unpaid"}).text
    assert f'data-testid="order-{unpaid.id}"' in to_pay and f'data-testid="order-{paid.id}"' not in to_pay
    to_use = client.get("/orders", params={"tab": "to_use"}).text
    assert f'data-testid="order-{paid.id}"' in to_use and f'data-testid="order-{unpaid.id}"' not in to_use
    assert 'data-testid="no-orders"' in client.get("/orders", params={"tab": "refunds"}).text
    assert client.get("/orders", params={"tab": "<script>"}).status_code == 200  # unknown tab: all


def test_a_consumer_asks_for_a_refund_with_a_reason(client, db, shop, consumer):
    order = make_order(db, consumer, shop=shop, paid=True)
    page = client.get(f"/orders/{order.id}")
    assert 'data-testid="refund-form"' in page.text
    form = {"csrf_token": csrf_from(client, f"/orders/{order.id}"), "form_key": FORM_KEY.search(page.text).group(1)}
    missing = client.post(f"/orders/{order.id}/refund", data=form, follow_redirects=False)
    assert missing.headers["location"].startswith(f"/orders/{order.id}?problem=refund_reason_required")
    assert db.scalar(select(Refund.id).where(Refund.order_id == order.id)) is None

    asked = client.post(f"/orders/{order.id}/refund", data={**form, "reason": "cannot_go", "note": "临时出差"},
                        follow_redirects=False)
    assert asked.headers["location"].startswith(f"/orders/{order.id}?problem=refund_requested")
    again = client.post(f"/orders/{order.id}/refund", data={**form, "reason": "cannot_go"}, follow_redirects=False)
    assert again.status_code == 303  # the same form twice: one refund
    refund = db.scalars(select(Refund).where(Refund.order_id == order.id)).one()
    assert refund.reason == "cannot_go: 临时出差" and refund.amount_fen == order.total_fen
    after = client.get(asked.headers["location"])
    assert "去不了门店" in after.text and "临时出差" in after.text and 'data-testid="refund-form"' not in after.text
    assert f'data-testid="order-{order.id}"' in client.get("/orders", params={"tab": "refunds"}).text


def test_someone_elses_order_cannot_be_refunded_from_the_page(client, db, shop, consumer):
    order = make_order(db, make_user(db, name="别人"), shop=shop, paid=True)
    form = {"csrf_token": csrf_from(client, "/orders"), "form_key": "k1", "reason": "other"}
    response = client.post(f"/orders/{order.id}/refund", data=form, follow_redirects=False)
    assert response.status_code in (403, 404)
    assert db.scalar(select(Refund.id).where(Refund.order_id == order.id)) is None


def test_booking_offers_only_days_with_times(client, db, shop, consumer):
    empty = client.get(f"/s/{shop.store.id}/book", params={"item_id": shop.item.id})
    assert 'data-testid="no-slots"' in empty.text and 'data-testid="book-days"' not in empty.text
    assert 'data-testid="book-submit"' not in empty.text
    slot = make_slot(db, shop.store, shop.item, starts_at=utcnow() + timedelta(days=2), capacity=2)
    page = client.get(f"/s/{shop.store.id}/book", params={"item_id": shop.item.id})
    tabs = re.findall(r'data-testid="day-tab-([0-9-]+)"', page.text)
    assert len(tabs) == 1 and f'data-testid="slot-{slot.id}"' in page.text


def test_the_presale_page_says_how_the_consumer_voted(client, db, shop, consumer):
    sale = create_presale(client, shop.merchant.id, auth(db, shop.manager), [shop.sku.id], threshold=3)
    candidate = sale["candidates"][0]["id"]
    path = f"/presales/{sale['id']}"
    assert f'data-testid="my-vote-{candidate}"' not in client.get(path).text
    client.post(f"{path}/candidates/{candidate}/vote",
                data={"csrf_token": csrf_from(client, path), "store_id": str(shop.store.id)}, follow_redirects=False)
    ballot = db.scalar(select(PresaleVote).where(PresaleVote.consumer_id == consumer.id))
    page = client.get(path).text
    assert f'data-testid="my-vote-{candidate}"' in page and f'href="/orders/{ballot.deposit_order_id}"' in page
    assert f'data-testid="vote-{candidate}"' not in page


def test_english_pages_show_english_service_names_on_orders(client, db, shop, consumer):
    shop.item.name_en = "Basic service"
    db.flush()
    order = make_order(db, consumer, shop=shop)
    english(client)
    assert "Basic service" in client.get(f"/orders/{order.id}").text
    assert "Basic service" in client.get("/orders").text
    paid = make_order(db, consumer, shop=shop, paid=True)
    assert "Basic service" in client.get(f"/orders/{paid.id}").text.split('data-testid="voucher-')[1]
    assert "Basic service" in client.get("/vouchers").text
