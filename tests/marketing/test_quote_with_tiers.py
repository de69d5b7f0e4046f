"""The member tier's discount comes before coupons, in the quote and at checkout alike: thresholds and caps are
judged on what the member actually pays, the quote shows the tier discount as its own line, and the two agree."""

import pytest
from sqlalchemy import select

from daodian.coupons.models import Coupon, CouponStatus
from daodian.loyalty.models import Membership, MemberTier, merchant_scope
from daodian.orders.models import OrderLine
from tests.factories import auth, make_shop
from tests.marketing.helpers import template_body
from tests.orders.helpers import create_order, key, pickup_body, service_body
from tests.web.support import log_in


@pytest.fixture
def shop(db):
    return make_shop(db, item_price_fen=19900, sku_price_fen=15500)  # a 155.00 SKU, a 199.00 service


@pytest.fixture
def silver(db, shop, consumer) -> MemberTier:
    """The consumer is a member of the shop's 5%-off tier."""
    tier = MemberTier(scope=merchant_scope(shop.merchant.id), merchant_id=shop.merchant.id, name="银卡", rank=1,
                      min_spend_fen=0, discount_percent=5)
    db.add(tier)
    db.flush()
    db.add(Membership(consumer_id=consumer.id, scope=tier.scope, merchant_id=shop.merchant.id, tier_id=tier.id))
    db.flush()
    return tier


def _claim(client, db, shop, headers, **overrides) -> dict:
    template = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates", json=template_body(**overrides),
                           headers=auth(db, shop.manager))
    assert template.status_code == 201, template.text
    claimed = client.post(f"/api/v1/coupons/{template.json()['id']}/claims", headers=headers)
    assert claimed.status_code == 201, claimed.text
    return claimed.json()


def _quote(client, headers, lines: list[dict], coupon_ids: list[int] | None = None) -> dict:
    body = {"lines": lines} if coupon_ids is None else {"lines": lines, "coupon_ids": coupon_ids}
    response = client.post("/api/v1/coupons/quote", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_150_20_coupon_no_longer_applies_to_155_after_a_5_percent_tier(client, db, shop, silver, me):
    coupon = _claim(client, db, shop, me)  # 满150减20
    lines = pickup_body(shop.sku, shop.store)["lines"]
    quote = _quote(client, me, lines)
    assert (quote["subtotal_fen"], quote["tier_percent"], quote["tier_discount_fen"]) == (15500, 5, 775)
    assert (quote["discount_fen"], quote["total_fen"], quote["applied"]) == (0, 14725, [])
    assert quote["rejected"] == [{"coupon_id": coupon["id"], "name": "满150减20", "reason": "below_threshold"}]
    assert quote["explanation"][0].startswith("Member tier discount: 5% off, 775 fen off 15500 fen")

    chosen = client.post("/api/v1/coupons/quote", json={"lines": lines, "coupon_ids": [coupon["id"]]}, headers=me)
    assert chosen.status_code == 409 and chosen.json()["error"]["details"]["reason"] == "below_threshold"
    refused = client.post("/api/v1/orders", json={**pickup_body(shop.sku, shop.store), "coupon_ids": [coupon["id"]]},
                          headers={**me, **key()})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "coupon_unusable"
    assert refused.json()["error"]["details"]["reason"] == "below_threshold"
    assert db.scalar(select(Coupon.status).where(Coupon.id == coupon["id"])) == CouponStatus.AVAILABLE

    order = create_order(client, me, pickup_body(shop.sku, shop.store))  # without the coupon: the tier only
    assert (order["total_fen"], order["discount_fen"]) == (14725, 775)


def test_without_a_tier_the_same_coupon_still_applies(client, db, shop, me):
    _claim(client, db, shop, me)
    quote = _quote(client, me, pickup_body(shop.sku, shop.store)["lines"])
    assert (quote["tier_percent"], quote["tier_discount_fen"], quote["discount_fen"], quote["total_fen"]) == (
        0, 0, 2000, 13500)
    assert quote["explanation"][0].startswith("满150减20")  # no tier line


def test_a_percent_cap_is_judged_after_the_tier(client, db, shop, silver, me):
    """10% capped at 18.00: on 199.00 (189.05 after 5%) the cap binds; on 155.00 (147.25 after 5%) the coupon
    takes 10% of 147.25 = 14.72 (floored), not 15.50 of the list price."""
    coupon = _claim(client, db, shop, me, name="九折最高减18", kind="percent", threshold_fen=0, amount_fen=None,
                    percent_off=10, cap_fen=1800)
    quote = _quote(client, me, service_body(shop.item)["lines"])
    assert (quote["tier_discount_fen"], quote["discount_fen"], quote["total_fen"]) == (995, 1800, 19900 - 995 - 1800)
    sku_quote = _quote(client, me, pickup_body(shop.sku, shop.store)["lines"])  # 155.00 -> 147.25: 14.72 off
    assert (sku_quote["discount_fen"], sku_quote["applied"][0]["eligible_fen"]) == (1472, 14725)
    order = create_order(client, me, {**pickup_body(shop.sku, shop.store), "coupon_ids": [coupon["id"]]})
    assert (order["total_fen"], order["discount_fen"]) == (sku_quote["total_fen"], 775 + 1472)


CARTS = [
    ("one 155.00 SKU", lambda s: pickup_body(s.sku, s.store)),
    ("two 155.00 SKUs", lambda s: pickup_body(s.sku, s.store, quantity=2)),
    ("one 199.00 service", lambda s: service_body(s.item)),
    ("three 199.00 services", lambda s: service_body(s.item, quantity=3)),
]


@pytest.mark.parametrize("name, body_of", CARTS, ids=[c[0] for c in CARTS])
def test_quote_and_checkout_agree_on_the_totals(client, db, shop, silver, me, name, body_of):
    _claim(client, db, shop, me)  # 满150减20
    _claim(client, db, shop, me, name="满500减60", threshold_fen=50000, amount_fen=6000)
    _claim(client, db, shop, me, name="九折最高减25", kind="percent", threshold_fen=0, amount_fen=None,
           percent_off=10, cap_fen=2500)
    body = body_of(shop)
    quote = _quote(client, me, body["lines"])
    assert quote["tier_discount_fen"] == quote["subtotal_fen"] * 5 // 100  # one line: floored once
    chosen = [a["coupon_id"] for a in quote["applied"]]
    order = create_order(client, me, {**body, "coupon_ids": chosen})
    assert order["total_fen"] == quote["total_fen"]
    assert order["discount_fen"] == quote["tier_discount_fen"] + quote["discount_fen"]
    lines = db.scalars(select(OrderLine).where(OrderLine.order_id == order["id"])).all()
    assert sum(line.amount_fen - line.discount_fen for line in lines) == quote["total_fen"]
    for coupon_id in chosen:  # each used coupon records the discount the quote promised
        used = db.scalar(select(Coupon).where(Coupon.id == coupon_id).execution_options(populate_existing=True))
        assert used.status == CouponStatus.USED
        assert used.discount_fen == next(a["discount_fen"] for a in quote["applied"] if a["coupon_id"] == coupon_id)


def test_the_checkout_page_shows_the_tier_discount_line(client, db, shop, silver, consumer):
    log_in(client, db, consumer)
    page = client.get(f"/buy/item/{shop.item.id}")
    assert page.status_code == 200, page.text
    assert 'data-testid="tier-discount"' in page.text and "会员等级折扣" in page.text
