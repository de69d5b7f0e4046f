"""The 1-fen minimum charge is one rule (pricing.most_off) for the quote and checkout: when coupons and points
cover the whole cart, the quote promises exactly what checkout charges."""

import pytest

from daodian.coupons import pricing
from daodian.loyalty import points as ledger
from daodian.loyalty.models import Membership, MemberTier, merchant_scope
from tests.factories import auth, make_shop
from tests.marketing.helpers import template_body
from tests.orders.helpers import create_order, key, service_body


@pytest.fixture
def shop(db):
    return make_shop(db, item_price_fen=19900)


def _claim(client, db, shop, headers, **overrides) -> dict:
    template = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates", json=template_body(**overrides),
                           headers=auth(db, shop.manager))
    assert template.status_code == 201, template.text
    claimed = client.post(f"/api/v1/coupons/{template.json()['id']}/claims", headers=headers)
    assert claimed.status_code == 201, claimed.text
    return claimed.json()


def _quote(client, headers, body: dict) -> dict:
    response = client.post("/api/v1/coupons/quote", json={"lines": body["lines"]}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _tier(db, shop, consumer, percent: int) -> None:
    tier = MemberTier(scope=merchant_scope(shop.merchant.id), merchant_id=shop.merchant.id, name="银卡", rank=1,
                      min_spend_fen=0, discount_percent=percent)
    db.add(tier)
    db.flush()
    db.add(Membership(consumer_id=consumer.id, scope=tier.scope, merchant_id=shop.merchant.id, tier_id=tier.id))
    db.flush()


def test_most_off_leaves_the_minimum_charge():
    assert (pricing.most_off(19900), pricing.most_off(1), pricing.most_off(0)) == (19899, 0, 0)


@pytest.mark.parametrize("tier_percent", [0, 5])
def test_coupons_worth_the_whole_cart_quote_the_one_fen_checkout_charges(client, db, shop, consumer, me,
                                                                         tier_percent):
    if tier_percent:
        _tier(db, shop, consumer, tier_percent)
    coupon = _claim(client, db, shop, me, name="无门槛减500", kind="amount", threshold_fen=0, amount_fen=50000)
    body = service_body(shop.item)
    quote = _quote(client, me, body)
    assert quote["total_fen"] == 1
    assert quote["tier_discount_fen"] + quote["discount_fen"] == 19899
    assert quote["applied"][0]["discount_fen"] == 19900 - quote["tier_discount_fen"]  # the coupon's face value
    assert "1 fen is left to pay" in quote["explanation"][-1]

    ledger.earn(db, consumer.id, 1000, f"test:{consumer.id}")
    with_points = client.post("/api/v1/orders", json={**body, "coupon_ids": [coupon["id"]], "points": 1},
                              headers={**me, **key()})  # nothing is left for points to take
    assert with_points.status_code == 422, with_points.text
    error = with_points.json()["error"]
    assert (error["code"], error["details"]) == ("points_exceed_total", {"max_points": 0})
    order = create_order(client, me, {**body, "coupon_ids": [coupon["id"]]})
    assert (order["total_fen"], order["discount_fen"]) == (quote["total_fen"],
                                                           quote["tier_discount_fen"] + quote["discount_fen"])


def test_coupons_and_points_together_cover_everything_but_the_quoted_fen(client, db, shop, consumer, me):
    coupon = _claim(client, db, shop, me, name="无门槛减190", kind="amount", threshold_fen=0, amount_fen=19000)
    body = service_body(shop.item)
    quote = _quote(client, me, body)
    assert (quote["discount_fen"], quote["total_fen"]) == (19000, 900)
    ledger.earn(db, consumer.id, 5000, f"test:{consumer.id}")
    all_of_it = client.post("/api/v1/orders", json={**body, "coupon_ids": [coupon["id"]], "points": 900},
                            headers={**me, **key()})
    assert all_of_it.status_code == 422, all_of_it.text
    assert all_of_it.json()["error"]["details"] == {"max_points": pricing.most_off(quote["total_fen"])}
    order = create_order(client, me, {**body, "coupon_ids": [coupon["id"]], "points": 899})
    assert (order["total_fen"], order["discount_fen"], order["points_spent"]) == (1, 19000, 899)
