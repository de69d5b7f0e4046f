"""Coupon grabs are where real systems oversell: real parallel clients against the live server."""

import httpx
from sqlalchemy import func, select

from daodian.coupons.models import Coupon, CouponTemplate
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from tests.marketing.helpers import crowd, many_consumers, status_counts, template_body
from tests.orders.helpers import LiveShop, in_parallel


def _template(live: LiveShop, **overrides) -> dict:
    with live.client() as http:
        response = http.post(f"/api/v1/merchants/{live.shop.merchant.id}/coupon-templates",
                             json=template_body(**overrides), headers=live.manager_auth)
    assert response.status_code == 201, response.text
    return response.json()


def _claimed(live_server, template_id: int) -> tuple[int, int, int, int]:
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        coupons = session.scalar(select(func.count()).select_from(Coupon).where(Coupon.template_id == template_id))
        holders = session.scalar(select(func.count(func.distinct(Coupon.consumer_id)))
                                 .where(Coupon.template_id == template_id))
        remaining = session.get(CouponTemplate, template_id).remaining
        facts = session.scalar(select(func.count()).select_from(Fact).where(
            Fact.kind == "coupon.claimed", Fact.payload["template_id"].as_integer() == template_id))
        return coupons, holders, remaining, facts


def test_10000_concurrent_claims_from_distinct_consumers_on_100_coupons_yield_exactly_100(live_server):
    live = LiveShop(live_server)
    template = _template(live, total_quantity=100)
    with unit_of_work(live_server.session_factory) as session:
        consumers = many_consumers(session, 10_000)

    responses = crowd(live.url, f"/api/v1/coupons/{template['id']}/claims", consumers)

    counts = status_counts(responses)
    assert counts == {201: 100, 409: 9_900}, (counts, sorted({code for status, code in responses if status != 201
                                                               and status != 409})[:5])
    assert {code for status, code in responses if status == 409} == {"coupon_sold_out"}
    assert _claimed(live_server, template["id"]) == (100, 100, 0, 100)


def test_50_parallel_claims_by_one_consumer_on_a_once_per_user_template_yield_one(live_server):
    live = LiveShop(live_server)
    template = _template(live, total_quantity=1000, per_user_limit=1)

    def one(_: int) -> httpx.Response:
        return httpx.post(f"{live.url}/api/v1/coupons/{template['id']}/claims", headers=live.consumer_auth, timeout=60)

    responses = in_parallel(50, one)
    assert status_counts(responses) == {201: 1, 409: 49}, status_counts(responses)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"coupon_limit_reached"}
    assert _claimed(live_server, template["id"]) == (1, 1, 999, 1)


def test_a_three_per_person_template_gives_one_consumer_exactly_three_under_30_parallel_claims(live_server):
    live = LiveShop(live_server)
    template = _template(live, total_quantity=1000, per_user_limit=3)

    def one(_: int) -> httpx.Response:
        return httpx.post(f"{live.url}/api/v1/coupons/{template['id']}/claims", headers=live.consumer_auth, timeout=60)

    responses = in_parallel(30, one)
    counts = status_counts(responses)
    assert counts.get(201) == 3 and counts.get(409) == 27, counts
    assert _claimed(live_server, template["id"]) == (3, 1, 997, 3)
