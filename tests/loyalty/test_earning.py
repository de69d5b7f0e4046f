"""Earning points on paid orders and recorded sales, and taking them back on refunds."""

from datetime import timedelta

from sqlalchemy import func, select

from daodian.kit.clock import utcnow
from daodian.loyalty import earning, points
from daodian.loyalty.models import Membership, MemberTier, PointsRule, PointsTransaction, merchant_scope
from daodian.orders.models import Order
from daodian.payments import refunds
from daodian.payments.models import Refund
from daodian.payments.providers.base import RefundResult
from tests.factories import auth
from tests.orders.helpers import create_order, key, pickup_body, sandbox_notify, start_sandbox


def _count(db, kind: str, consumer_id: int) -> int:
    return db.scalar(select(func.count()).select_from(PointsTransaction).where(
        PointsTransaction.kind == kind, PointsTransaction.consumer_id == consumer_id))


def _pay(client, settings, me, body, *, times: int = 1) -> dict:
    order = create_order(client, me, body)
    payment = start_sandbox(client, me, order["id"])
    for _ in range(times):
        assert sandbox_notify(client, settings, payment).status_code == 200
    return client.get(f"/api/v1/orders/{order['id']}", headers=me).json()


def _refund(client, me, order_id: int, body: dict | None = None) -> dict:
    response = client.post(f"/api/v1/orders/{order_id}/refunds", json=body or {}, headers={**me, **key()})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_paid_order_earns_once_even_if_the_callback_comes_twice(client, db, settings, shop, consumer, me):
    order = _pay(client, settings, me, pickup_body(shop.sku, shop.store), times=2)  # 299.00 paid
    assert order["status"] == "paid"
    assert points.balance_of(db, consumer.id) == 299  # the default: 1 point per yuan
    assert _count(db, "earn", consumer.id) == 1
    assert points.reconcile(db).clean


def test_the_merchant_rate_and_the_tier_multiplier_scale_the_earn(client, db, settings, shop, consumer, me):
    db.add(PointsRule(merchant_id=shop.merchant.id, points_per_yuan=3))
    tier = MemberTier(scope=merchant_scope(shop.merchant.id), merchant_id=shop.merchant.id, name="金卡", rank=2,
                      min_spend_fen=0, points_multiplier_pct=150)
    db.add(tier)
    db.flush()
    db.add(Membership(consumer_id=consumer.id, scope=merchant_scope(shop.merchant.id), merchant_id=shop.merchant.id,
                      tier_id=tier.id))
    db.flush()
    _pay(client, settings, me, pickup_body(shop.sku, shop.store))
    assert points.balance_of(db, consumer.id) == 29900 * 3 * 150 // 10000  # 1345, floored


def test_partial_refunds_take_back_their_share_and_a_full_refund_the_rest(client, db, settings, shop, consumer, me):
    order = _pay(client, settings, me, pickup_body(shop.sku, shop.store, quantity=2))  # 598.00 -> 598 points
    assert points.balance_of(db, consumer.id) == 598
    first = _refund(client, me, order["id"], {"amount_fen": 10000})
    assert first["status"] == "succeeded"
    assert points.balance_of(db, consumer.id) == 598 - 100  # 598 * 10000 / 59800
    _refund(client, me, order["id"])  # the rest: the order is refunded in full
    assert points.balance_of(db, consumer.id) == 0
    assert (_count(db, "takeback", consumer.id), _count(db, "reverse", consumer.id)) == (1, 1)
    assert points.reconcile(db).clean


def test_settling_a_refund_again_takes_nothing_more(client, db, settings, shop, consumer, me):
    order = _pay(client, settings, me, pickup_body(shop.sku, shop.store, quantity=2))
    done = _refund(client, me, order["id"], {"amount_fen": 29900})
    refund = db.get(Refund, done["id"])
    refunds.settle(db, refund, RefundResult("succeeded", provider_refund_no="again"))  # a repeated answer
    paid = db.get(Order, order["id"])
    earning.on_refund_succeeded(db, paid, refund, fully_refunded=False)  # the hook itself is keyed by the refund
    assert points.balance_of(db, consumer.id) == 598 - 299
    assert _count(db, "takeback", consumer.id) == 1
    assert points.reconcile(db).clean


def test_points_spent_elsewhere_cap_the_take_back(client, db, settings, shop, consumer, me):
    order = _pay(client, settings, me, pickup_body(shop.sku, shop.store))  # 299 points
    points.spend(db, consumer.id, 250, "checkout:elsewhere")
    _refund(client, me, order["id"])
    assert points.balance_of(db, consumer.id) == 0  # only the 49 left could be taken back
    assert points.reconcile(db).clean


def _sale(shop, receipt: str, member: dict | None = None) -> dict:
    body = {"receipt_id": receipt, "occurred_at": (utcnow() - timedelta(minutes=5)).isoformat(),
            "lines": [{"sku_id": shop.sku.id, "quantity": 1, "amount_fen": 12345}]}
    if member:
        body.update(member=member, member_consented=True)
    return body


def test_a_recorded_sale_with_an_identified_member_earns_once(client, db, shop, consumer):
    url = f"/api/v1/stores/{shop.store.id}/consumption-records"
    clerk = auth(db, shop.clerk)
    body = _sale(shop, "POS-9", {"phone": consumer.phone})
    assert client.post(url, json=body, headers=clerk).status_code == 201
    assert client.post(url, json=body, headers=clerk).status_code in (200, 201)  # the POS retries
    assert points.balance_of(db, consumer.id) == 123
    assert _count(db, "earn", consumer.id) == 1
    anonymous = client.post(url, json=_sale(shop, "POS-10"), headers=clerk)
    assert anonymous.status_code == 201 and _count(db, "earn", consumer.id) == 1
