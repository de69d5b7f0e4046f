"""Coupons and points at checkout, through the API: totals, release on cancel / expiry / full refund,
partial refunds net of the discount, and one coupon raced by parallel checkouts on a live server."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from daodian.checkout.discounts import spread
from daodian.coupons.models import Coupon, CouponStatus
from daodian.kit.db import unit_of_work
from daodian.loyalty import points as ledger
from daodian.orders import service as order_service
from daodian.orders.models import Order, OrderLine
from tests.factories import auth, make_user
from tests.marketing.helpers import template_body
from tests.orders.helpers import LiveShop, create_order, in_parallel, key, paid_order, pickup_body, post, service_body
from tests.payments.reconcile import assert_books_balance


@pytest.fixture
def manager(db, shop):
    return auth(db, shop.manager)


def _coupon(client, shop, manager, consumer_headers, **overrides) -> dict:
    template = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates",
                           json=template_body(**overrides), headers=manager)
    assert template.status_code == 201, template.text
    claimed = client.post(f"/api/v1/coupons/{template.json()['id']}/claims", headers=consumer_headers)
    assert claimed.status_code == 201, claimed.text
    return claimed.json()


def _points(db, consumer, amount: int) -> None:
    ledger.earn(db, consumer.id, amount, f"test:{consumer.id}:{amount}")


def _refund(client, headers, order_id: int, body: dict | None = None):
    return client.post(f"/api/v1/orders/{order_id}/refunds", json=body or {}, headers={**headers, **key()})


def _status(db, coupon_id: int) -> str:
    return db.scalar(select(Coupon.status).where(Coupon.id == coupon_id).execution_options(populate_existing=True))


def test_spread_is_exact_to_the_fen():
    assert spread([100, 200, 1], 7) == [98, 195, 1] and sum(spread([100, 200, 1], 7)) == 294
    assert spread([10, 10], 3, [True, False]) == [7, 10]


def test_coupon_and_points_are_taken_off_on_the_server(client, db, settings, shop, manager, consumer, me):
    coupon = _coupon(client, shop, manager, me)  # 满150减20 on a 299.00 SKU
    _points(db, consumer, 500)
    order = create_order(client, me, {**pickup_body(shop.sku, shop.store), "coupon_ids": [coupon["id"]],
                                      "points": 300})
    assert (order["total_fen"], order["discount_fen"], order["points_spent"]) == (29900 - 2000 - 300, 2000, 300)
    assert order["lines"][0]["discount_fen"] == 2300
    assert ledger.balance_of(db, consumer.id) == 200
    assert _status(db, coupon["id"]) == CouponStatus.USED


def test_points_over_the_balance_are_409_and_nothing_is_written(client, db, shop, manager, consumer, me):
    coupon = _coupon(client, shop, manager, me)
    _points(db, consumer, 100)
    response = client.post("/api/v1/orders", json={**pickup_body(shop.sku, shop.store), "coupon_ids": [coupon["id"]],
                                                   "points": 101}, headers={**me, **key()})
    assert response.status_code == 409 and response.json()["error"]["code"] == "insufficient_points"
    assert db.scalar(select(Order.id).where(Order.consumer_id == consumer.id)) is None
    assert _status(db, coupon["id"]) == CouponStatus.AVAILABLE and ledger.balance_of(db, consumer.id) == 100


def test_points_cannot_take_the_total_below_one_fen(client, db, shop, consumer, me):
    _points(db, consumer, 40000)
    too_many = client.post("/api/v1/orders", json={**service_body(shop.item), "points": 19900}, headers={**me, **key()})
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "points_exceed_total"
    assert too_many.json()["error"]["details"] == {"max_points": 19899}
    assert create_order(client, me, {**service_body(shop.item), "points": 19899})["total_fen"] == 1


def test_a_coupon_worth_the_whole_order_leaves_one_fen(client, shop, manager, me):
    coupon = _coupon(client, shop, manager, me, kind="amount", threshold_fen=0, amount_fen=50000)
    order = create_order(client, me, {**service_body(shop.item), "coupon_ids": [coupon["id"]]})
    assert (order["total_fen"], order["discount_fen"]) == (1, 19899)


def test_unusable_coupons_get_the_marketing_code(client, db, shop, manager, me):
    coupon = _coupon(client, shop, manager, me)  # 满150减20; the item costs 199.00
    other = auth(db, make_user(db))
    response = client.post("/api/v1/orders", json={**service_body(shop.item), "coupon_ids": [coupon["id"]]},
                           headers={**other, **key()})
    assert response.status_code == 409 and response.json()["error"]["code"] == "coupon_unusable"
    used = create_order(client, me, {**service_body(shop.item), "coupon_ids": [coupon["id"]]})
    assert used["discount_fen"] == 2000
    again = client.post("/api/v1/orders", json={**service_body(shop.item), "coupon_ids": [coupon["id"]]},
                        headers={**me, **key()})
    assert again.status_code == 409 and again.json()["error"]["code"] == "coupon_unusable"


def test_cancel_gives_the_coupon_and_the_points_back(client, db, shop, manager, consumer, me):
    coupon = _coupon(client, shop, manager, me)
    _points(db, consumer, 1000)
    order = create_order(client, me, {**service_body(shop.item), "coupon_ids": [coupon["id"]], "points": 1000})
    assert ledger.balance_of(db, consumer.id) == 0
    assert client.post(f"/api/v1/orders/{order['id']}/cancel", headers=me).status_code == 200
    assert _status(db, coupon["id"]) == CouponStatus.AVAILABLE and ledger.balance_of(db, consumer.id) == 1000
    assert ledger.reconcile(db).clean


def test_unpaid_expiry_gives_them_back(client, db, settings, shop, manager, consumer, me):
    coupon = _coupon(client, shop, manager, me)
    _points(db, consumer, 50)
    order = create_order(client, me, {**service_body(shop.item), "coupon_ids": [coupon["id"]], "points": 50})
    row = db.get(Order, order["id"])
    assert order_service.expire(db, row, row.expires_at + timedelta(seconds=1))
    assert _status(db, coupon["id"]) == CouponStatus.AVAILABLE and ledger.balance_of(db, consumer.id) == 50


def test_full_refund_releases_partial_refund_keeps(client, db, settings, shop, manager, consumer, me):
    coupon = _coupon(client, shop, manager, me)
    _points(db, consumer, 900)
    order = paid_order(client, settings, me, {**pickup_body(shop.sku, shop.store), "coupon_ids": [coupon["id"]],
                                              "points": 900})
    assert order["paid_fen"] == 29900 - 2900
    too_much = _refund(client, me, order["id"], {"amount_fen": 27001})
    assert too_much.status_code == 422
    assert _refund(client, me, order["id"], {"amount_fen": 10000}).status_code == 201
    # the spend stays spent; of the 270 points the 270.00 paid earned, the refund's share (100) is taken back
    assert _status(db, coupon["id"]) == CouponStatus.USED and ledger.balance_of(db, consumer.id) == 270 - 100
    rest = _refund(client, me, order["id"]).json()
    assert rest["amount_fen"] == 17000
    assert _status(db, coupon["id"]) == CouponStatus.AVAILABLE and ledger.balance_of(db, consumer.id) == 900
    assert_books_balance(db, {shop.merchant.id})


def test_service_refunds_are_net_of_each_lines_discount(client, db, settings, shop, manager, consumer, me):
    coupon = _coupon(client, shop, manager, me)  # 20.00 off 3 x 199.00
    _points(db, consumer, 1)
    order = paid_order(client, settings, me, {**service_body(shop.item, quantity=3), "coupon_ids": [coupon["id"]],
                                              "points": 1})
    assert order["total_fen"] == 3 * 19900 - 2001
    vouchers = sorted(v["id"] for v in client.get("/api/v1/vouchers", headers=me).json()["items"]
                      if v["order_id"] == order["id"])
    first = _refund(client, me, order["id"], {"voucher_id": vouchers[0]}).json()
    assert first["amount_fen"] == (3 * 19900 - 2001) // 3
    assert _status(db, coupon["id"]) == CouponStatus.USED
    rest = _refund(client, me, order["id"]).json()
    assert first["amount_fen"] + rest["amount_fen"] == order["total_fen"]  # exactly what was paid, no more
    after = client.get(f"/api/v1/orders/{order['id']}", headers=me).json()
    assert after["status"] == "refunded" and _status(db, coupon["id"]) == CouponStatus.AVAILABLE
    line = db.scalars(select(OrderLine).where(OrderLine.order_id == order["id"])).one()
    assert line.discount_fen == 2001
    assert_books_balance(db, {shop.merchant.id})


def test_one_coupon_raced_by_parallel_checkouts_is_used_once(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        manager = live.manager_auth
        template = http.post(f"/api/v1/merchants/{live.shop.merchant.id}/coupon-templates",
                             json=template_body(), headers=manager).json()
        coupon = http.post(f"/api/v1/coupons/{template['id']}/claims", headers=live.consumer_auth).json()
    body = {**service_body(live.shop.item), "coupon_ids": [coupon["id"]]}
    responses = in_parallel(8, lambda i: post(f"{live.url}/api/v1/orders", json=body,
                                              headers={**live.consumer_auth, **key()}, timeout=60))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} <= {"coupon_used", "coupon_unusable"}
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert session.scalar(select(Order.id).where(Order.consumer_id == live.consumer.id)) is not None
        assert len(session.scalars(select(Order).where(Order.consumer_id == live.consumer.id)).all()) == 1
        assert session.get(Coupon, coupon["id"]).status == CouponStatus.USED
