"""Coupon templates, claims, the checkout quote, the counter and the refund rule, through the API."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from daodian.analytics.contract import violations
from daodian.coupons import redemption
from daodian.coupons import service as coupons
from daodian.coupons.models import Coupon, CouponStatus
from daodian.coupons.schemas import CouponRead
from daodian.kit import codes
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from daodian.orders.models import Order
from tests.factories import auth, make_record, make_shop, make_user
from tests.marketing.helpers import template_body


@pytest.fixture
def shop(db):
    return make_shop(db, item_price_fen=19900, sku_price_fen=29900)


@pytest.fixture
def manager(db, shop):
    return auth(db, shop.manager)


@pytest.fixture
def me(db):
    user = make_user(db, name="顾客")
    return user, auth(db, user)


def _create(client, shop, headers, **overrides) -> dict:
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates", json=template_body(**overrides),
                           headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _claim(client, template, headers) -> dict:
    response = client.post(f"/api/v1/coupons/{template['id']}/claims", headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _facts(db, kind: str) -> list[Fact]:
    return list(db.scalars(select(Fact).where(Fact.kind == kind).order_by(Fact.id)))


# --- templates ----------------------------------------------------------------------------------------


def test_a_manager_creates_a_template_a_clerk_may_not(client, db, shop, manager):
    template = _create(client, shop, manager)
    assert (template["remaining"], template["total_quantity"], template["scope"]) == (100, 100, "merchant")
    clerk = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates", json=template_body(),
                        headers=auth(db, shop.clerk))
    assert clerk.status_code == 403


@pytest.mark.parametrize("overrides", [
    {"kind": "percent"},  # percent without percent_off
    {"kind": "threshold", "threshold_fen": 100},  # threshold below the amount off
    {"valid_days": None},  # no validity at all
    {"valid_until": (utcnow() + timedelta(days=30)).isoformat()},  # both validities
    {"scope": "items"},  # items scope without items
    {"total_quantity": 0},
    {"amount_fen": -5},
])
def test_templates_that_do_not_add_up_are_refused(client, shop, manager, overrides):
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates", json=template_body(**overrides),
                           headers=manager)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


def test_a_scope_naming_another_merchants_store_is_refused(client, db, shop, manager):
    other = make_shop(db, name="别家")
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates",
                           json=template_body(scope="stores", scope_values=[str(other.store.id)]), headers=manager)
    assert response.status_code == 422
    assert response.json()["error"] == {"code": "invalid_coupon_template", "message": "Unknown stores of this merchant.",
                                        "details": {"unknown": [other.store.id]}}


def test_only_operators_create_platform_coupons(client, db, manager):
    body = template_body(scope="platform", stacking="stackable")
    assert client.post("/api/v1/coupon-templates", json=body, headers=manager).status_code == 403
    operator = auth(db, make_user(db, operator=True))
    created = client.post("/api/v1/coupon-templates", json=body, headers=operator)
    assert created.status_code == 201 and created.json()["merchant_id"] is None


# --- claims -------------------------------------------------------------------------------------------


def test_a_claim_gives_a_coupon_with_a_counter_code_and_appends_a_fact(client, db, shop, manager, me):
    user, headers = me
    template = _create(client, shop, manager, valid_days=10)
    coupon = _claim(client, template, headers)
    assert coupon["status"] == "available" and codes.is_valid(coupon["code"])
    assert timedelta(days=9, hours=23) < (
        CouponRead.model_validate(coupon).valid_until - utcnow()) <= timedelta(days=10)
    fact = _facts(db, "coupon.claimed")[-1]
    assert (fact.consumer_id, fact.merchant_id) == (user.id, shop.merchant.id)
    assert fact.payload == {"coupon_id": coupon["id"], "template_id": template["id"], "campaign_id": None,
                            "channel": "online"}
    mine = client.get("/api/v1/me/coupons", headers=headers).json()["items"]
    assert [c["id"] for c in mine] == [coupon["id"]]


def test_the_per_user_limit_and_the_stock_are_enforced_with_clean_409s(client, db, shop, manager, me):
    _, headers = me
    template = _create(client, shop, manager, total_quantity=2, per_user_limit=1)
    _claim(client, template, headers)
    again = client.post(f"/api/v1/coupons/{template['id']}/claims", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "coupon_limit_reached"
    _claim(client, template, auth(db, make_user(db)))
    late = client.post(f"/api/v1/coupons/{template['id']}/claims", headers=auth(db, make_user(db)))
    assert late.status_code == 409 and late.json()["error"]["code"] == "coupon_sold_out"
    assert client.get(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates",
                      headers=manager).json()["items"][0]["remaining"] == 0


def test_claims_outside_the_window_or_of_unknown_templates_are_refused(client, shop, manager, me):
    _, headers = me
    later = _create(client, shop, manager, claim_starts_at=(utcnow() + timedelta(days=1)).isoformat())
    response = client.post(f"/api/v1/coupons/{later['id']}/claims", headers=headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "coupon_not_claimable"
    assert client.post("/api/v1/coupons/999999/claims", headers=headers).status_code == 404
    assert client.post(f"/api/v1/coupons/{later['id']}/claims").status_code == 401


def test_the_coupon_centre_lists_open_public_templates_only(client, shop, manager):
    open_one = _create(client, shop, manager)
    _create(client, shop, manager, public=False)
    _create(client, shop, manager, claim_starts_at=(utcnow() + timedelta(days=1)).isoformat())
    listed = client.get("/api/v1/coupon-templates", params={"merchant_id": shop.merchant.id}).json()["items"]
    assert [t["id"] for t in listed] == [open_one["id"]]


# --- the quote ----------------------------------------------------------------------------------------


def _quote(client, headers, body) -> dict:
    response = client.post("/api/v1/coupons/quote", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_quote_picks_the_best_coupon_and_says_why_the_others_lose(client, db, shop, manager, me):
    _, headers = me
    manjian = _claim(client, _create(client, shop, manager, name="满150减20"), headers)
    percent = _claim(client, _create(client, shop, manager, name="九折最高减50", kind="percent", threshold_fen=0,
                                     amount_fen=None, percent_off=10, cap_fen=5000), headers)
    small = _claim(client, _create(client, shop, manager, name="无门槛5元", kind="amount", threshold_fen=0,
                                   amount_fen=500), headers)
    big = _claim(client, _create(client, shop, manager, name="满500减80", threshold_fen=50000, amount_fen=8000), headers)
    cart = {"lines": [{"sku_id": shop.sku.id, "quantity": 1}]}  # 299.00: 10% is 29.90, beating 20 and 5
    quote = _quote(client, headers, cart)
    assert (quote["subtotal_fen"], quote["discount_fen"], quote["total_fen"]) == (29900, 2990, 26910)
    assert [a["coupon_id"] for a in quote["applied"]] == [percent["id"]]
    reasons = {r["coupon_id"]: r["reason"] for r in quote["rejected"]}
    assert reasons == {manjian["id"]: "not_best", small["id"]: "not_best", big["id"]: "below_threshold"}
    assert "Best of 4 coupon(s)" in quote["explanation"][-1]

    two = _quote(client, headers, {"lines": [{"sku_id": shop.sku.id, "quantity": 2}]})  # 598.00
    assert [a["coupon_id"] for a in two["applied"]] == [big["id"]] and two["discount_fen"] == 8000  # cap 50 < 80


def test_a_percent_cap_and_item_scope_are_respected(client, db, shop, manager, me):
    _, headers = me
    scoped = _claim(client, _create(client, shop, manager, kind="percent", threshold_fen=0, amount_fen=None,
                                    percent_off=50, cap_fen=3000, scope="items",
                                    scope_values=[f"service_item:{shop.item.id}"]), headers)
    products_only = _quote(client, headers, {"lines": [{"sku_id": shop.sku.id}]})
    assert products_only["applied"] == [] and products_only["rejected"][0]["reason"] == "out_of_scope"
    service = _quote(client, headers, {"lines": [{"service_item_id": shop.item.id}, {"sku_id": shop.sku.id}]})
    assert service["applied"] == [{"coupon_id": scoped["id"], "template_id": scoped["template_id"],
                                   "name": "满150减20", "discount_fen": 3000, "eligible_fen": 19900}]


def test_a_stackable_platform_coupon_combines_with_a_stackable_merchant_coupon(client, db, shop, manager, me):
    _, headers = me
    operator = auth(db, make_user(db, operator=True))
    platform = client.post("/api/v1/coupon-templates", json=template_body(
        name="平台满100减10", scope="platform", threshold_fen=10000, amount_fen=1000, stacking="stackable"),
        headers=operator).json()
    merchant = _create(client, shop, manager, name="店铺满150减20", stacking="stackable")
    exclusive = _create(client, shop, manager, name="独享满200减25", threshold_fen=20000, amount_fen=2500)
    p, m, x = (_claim(client, t, headers) for t in (platform, merchant, exclusive))
    quote = _quote(client, headers, {"lines": [{"sku_id": shop.sku.id}]})  # 299: 20 + 10 = 30 beats 25 alone
    assert sorted(a["coupon_id"] for a in quote["applied"]) == sorted([p["id"], m["id"]])
    assert quote["discount_fen"] == 3000
    chosen = client.post("/api/v1/coupons/quote", json={"lines": [{"sku_id": shop.sku.id}],
                                                        "coupon_ids": [x["id"], p["id"]]}, headers=headers)
    assert chosen.status_code == 409 and chosen.json()["error"]["details"] == {"reason": "not_stackable"}


def test_someone_elses_coupon_cannot_be_chosen(client, db, shop, manager, me):
    _, headers = me
    theirs = _claim(client, _create(client, shop, manager), auth(db, make_user(db)))
    response = client.post("/api/v1/coupons/quote", json={"lines": [{"sku_id": shop.sku.id}],
                                                          "coupon_ids": [theirs["id"]]}, headers=headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "coupon_unusable"


def test_a_cart_of_two_merchants_is_refused(client, db, shop, me):
    _, headers = me
    other = make_shop(db, name="别家")
    response = client.post("/api/v1/coupons/quote", json={"lines": [{"sku_id": shop.sku.id},
                                                                    {"sku_id": other.sku.id}]}, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "multiple_merchants"


# --- the counter and the refund rule ----------------------------------------------------------------


def test_the_counter_redeems_a_code_once_and_only_its_own_merchants(client, db, shop, manager, me):
    user, headers = me
    coupon = _claim(client, _create(client, shop, manager), headers)
    clerk = auth(db, shop.clerk)
    typed = codes.display(coupon["code"]).lower()  # read aloud, typed in lower case with hyphens
    below = client.post("/api/v1/coupons/redeem", json={"code": typed, "store_id": shop.store.id, "amount_fen": 9900},
                        headers=clerk)
    assert below.status_code == 409 and below.json()["error"]["details"]["reason"] == "below_threshold"
    record = make_record(db, shop.store, shop.clerk, consumer=user)
    done = client.post("/api/v1/coupons/redeem", json={"code": typed, "store_id": shop.store.id, "amount_fen": 18800,
                                                       "record_id": record.id}, headers=clerk)
    assert done.status_code == 200 and done.json() == {"coupon_id": coupon["id"], "discount_fen": 2000,
                                                       "pay_fen": 16800}
    again = client.post("/api/v1/coupons/redeem", json={"code": typed, "store_id": shop.store.id, "amount_fen": 18800},
                        headers=clerk)
    assert again.status_code == 409 and again.json()["error"]["code"] == "coupon_used"
    used = _facts(db, "coupon.used")[-1]
    assert used.payload["at"] == "counter" and used.payload["discount_fen"] == 2000 and used.store_id == shop.store.id
    assert used.payload["record_id"] == record.id and used.payload["amount_fen"] == 18800
    _meets_the_analytics_contract(db)

    other = make_shop(db, name="别家")
    fresh = _claim(client, _create(client, shop, manager, name="再来一张"), headers)
    foreign = client.post("/api/v1/coupons/redeem", json={"code": fresh["code"], "store_id": other.store.id,
                                                          "amount_fen": 18800}, headers=auth(db, other.clerk))
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "coupon_not_found"
    stranger = client.post("/api/v1/coupons/redeem", json={"code": fresh["code"], "store_id": shop.store.id,
                                                           "amount_fen": 18800}, headers=auth(db, other.clerk))
    assert stranger.status_code == 403


def _order(db, user, shop) -> Order:
    now = utcnow()
    order = Order(consumer_id=user.id, merchant_id=shop.merchant.id, kind="product", status="created",
                  fulfilment="pickup", store_id=shop.store.id, total_fen=29900, expires_at=now + timedelta(hours=1))
    db.add(order)
    db.flush()
    return order


def test_checkout_uses_a_coupon_once_and_a_refund_restores_or_voids_it(client, db, shop, manager, me):
    user, headers = me
    keep = _claim(client, _create(client, shop, manager), headers)
    lapse = _claim(client, _create(client, shop, manager, name="快过期"), headers)
    merchant_id, lines = redemption.priced_lines(db, [redemption.CartLineIn(sku_id=shop.sku.id)])
    first, second = _order(db, user, shop), _order(db, user, shop)
    plan = redemption.use_at_checkout(db, user.id, merchant_id, shop.store.id, lines, [keep["id"]], order_id=first.id)
    assert plan.discount_fen == 2000
    with pytest.raises(redemption.CouponUnusable):  # already used: not available for another order
        redemption.use_at_checkout(db, user.id, merchant_id, shop.store.id, lines, [keep["id"]], order_id=second.id)
    redemption.use_at_checkout(db, user.id, merchant_id, shop.store.id, lines, [lapse["id"]], order_id=second.id)
    db.get(Coupon, lapse["id"]).valid_until = utcnow() - timedelta(minutes=1)  # its validity ends before the refund
    db.flush()

    assert [c.id for c in redemption.release_for_order(db, first.id)] == [keep["id"]]
    assert [c.id for c in redemption.release_for_order(db, second.id)] == [lapse["id"]]
    assert redemption.release_for_order(db, first.id) == []  # safe to call twice
    assert db.get(Coupon, keep["id"]).status == CouponStatus.AVAILABLE
    assert db.get(Coupon, keep["id"]).used_order_id is None
    assert db.get(Coupon, lapse["id"]).status == CouponStatus.VOIDED
    assert [f.payload["coupon_id"] for f in _facts(db, "coupon.restored")] == [keep["id"]]
    assert [f.payload["coupon_id"] for f in _facts(db, "coupon.voided")] == [lapse["id"]]
    assert {f.payload["at"] for f in _facts(db, "coupon.used")} == {"checkout"}
    _meets_the_analytics_contract(db)


def _meets_the_analytics_contract(db) -> None:
    """Every coupon fact written has what analytics.contract says the funnel queries read."""
    facts = list(db.scalars(select(Fact).where(Fact.kind.like("coupon.%"))))
    assert facts and [p for f in facts for p in violations(f.kind, f.merchant_id, f.store_id, f.consumer_id,
                                                           f.payload)] == []


def test_the_expiry_job_expires_lapsed_coupons_once(client, db, shop, manager, me):
    _, headers = me
    coupon = _claim(client, _create(client, shop, manager), headers)
    later = utcnow() + timedelta(days=31)
    assert coupons.expire_due(db, later) == 1
    assert coupons.expire_due(db, later) == 0
    assert db.get(Coupon, coupon["id"]).status == CouponStatus.EXPIRED
    assert _facts(db, "coupon.expired")[-1].payload["coupon_id"] == coupon["id"]
