"""Segment campaigns: sized, never listed; small segments cannot be targeted; opted-out consumers are out."""

from datetime import date

from sqlalchemy import func, select

from daodian.analytics.models import MemberSegment
from daodian.coupons.models import Coupon
from daodian.kit.facts import Fact
from tests.factories import auth, make_shop, make_user
from tests.marketing.helpers import template_body


def _members(db, merchant, count: int, **segment) -> list:
    users = [make_user(db) for _ in range(count)]
    values = {"segment": "active", "recency_days": 10, "frequency": 1, "monetary_fen": 10000, "r_score": 3,
              "f_score": 3, "m_score": 3} | segment
    for user in users:
        db.add(MemberSegment(merchant_id=merchant.id, consumer_id=user.id, first_purchase_on=date(2026, 1, 1),
                             last_purchase_on=date(2026, 11, 1), as_of=date(2026, 11, 21), **values))
    db.flush()
    return users


def _size(client, shop, headers, **params) -> dict:
    response = client.get(f"/api/v1/merchants/{shop.merchant.id}/audience", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_segments_are_sized_and_small_ones_shown_as_fewer_than_the_threshold(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    _members(db, shop.merchant, 12, segment="new")
    _members(db, shop.merchant, 10)
    _members(db, shop.merchant, 4, frequency=5, m_score=5, recency_days=200)
    _members(db, make_shop(db, name="别家").merchant, 30)  # another merchant's members never count
    assert _size(client, shop, manager, segment="all") == {"segment": "all", "size": 26, "display": "26",
                                                           "targetable": True, "threshold": 10, "withheld": None}
    assert _size(client, shop, manager, segment="new")["size"] == 12
    high = _size(client, shop, manager, segment="high_value")
    assert high == {"segment": "high_value", "size": None, "display": "fewer than 10", "targetable": False,
                    "threshold": 10, "withheld": "too_small"}
    assert _size(client, shop, manager, segment="inactive", inactive_days=180)["display"] == "fewer than 10"
    assert _size(client, shop, manager, segment="returning")["targetable"] is False
    bad = client.get(f"/api/v1/merchants/{shop.merchant.id}/audience", params={"segment": "inactive"}, headers=manager)
    assert bad.status_code == 422
    off_ladder = client.get(f"/api/v1/merchants/{shop.merchant.id}/audience",
                            params={"segment": "inactive", "inactive_days": 31}, headers=manager)
    assert off_ladder.status_code == 422  # any day count would let day d and d + 1 isolate a few members


def test_a_size_that_differs_from_a_containing_one_by_fewer_than_k_is_withheld_and_cannot_be_targeted(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    _members(db, shop.merchant, 20, recency_days=100)
    _members(db, shop.merchant, 3, recency_days=70)  # inactive 60 days minus inactive 90 days: these three
    _members(db, shop.merchant, 15, recency_days=5)
    inactive = {d: _size(client, shop, manager, segment="inactive", inactive_days=d) for d in (30, 60, 90)}
    assert inactive[30]["size"] == 23 and inactive[60]["size"] == 23  # the same people: nothing to subtract
    assert inactive[90] == {"segment": "inactive", "size": None, "display": "withheld", "targetable": False,
                            "threshold": 10, "withheld": "differencing"}
    assert _size(client, shop, manager, segment="all")["size"] == 38  # 38 - 23 = 15: both may be shown
    template = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates", json=template_body(),
                           headers=manager).json()
    refused = client.post(f"/api/v1/merchants/{shop.merchant.id}/campaigns",
                          json={"segment": "inactive", "inactive_days": 90, "template_id": template["id"]},
                          headers=manager)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "audience_withheld"


def test_opting_out_of_personalised_marketing_takes_a_consumer_out_of_every_audience(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    members = _members(db, shop.merchant, 10, segment="new")
    assert _size(client, shop, manager, segment="new")["size"] == 10
    me = auth(db, members[0])
    assert client.get("/api/v1/me/marketing-preferences", headers=me).json() == {"personalised": True}
    assert client.put("/api/v1/me/marketing-preferences", json={"personalised": False}, headers=me).json() == {
        "personalised": False}
    assert _size(client, shop, manager, segment="new")["display"] == "fewer than 10"  # 9 now: too few to target
    template = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates", json=template_body(),
                           headers=manager).json()
    refused = client.post(f"/api/v1/merchants/{shop.merchant.id}/campaigns",
                          json={"segment": "new", "template_id": template["id"]}, headers=manager)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "audience_too_small"
    assert db.scalar(select(func.count()).select_from(Coupon).where(Coupon.template_id == template["id"])) == 0


def test_a_campaign_issues_coupons_to_the_segment_while_stock_lasts(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    members = _members(db, shop.merchant, 15, segment="new")
    opted_out = members[0]
    client.put("/api/v1/me/marketing-preferences", json={"personalised": False}, headers=auth(db, opted_out))
    template = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates",
                           json=template_body(total_quantity=12, public=False), headers=manager).json()
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/campaigns",
                           json={"segment": "new", "template_id": template["id"]}, headers=manager)
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert (campaign["audience"], campaign["issued"]) == (14, 12)
    holders = set(db.scalars(select(Coupon.consumer_id).where(Coupon.template_id == template["id"])))
    assert len(holders) == 12 and opted_out.id not in holders
    issued = db.scalar(select(func.count()).select_from(Fact).where(
        Fact.kind == "coupon.issued", Fact.payload["campaign_id"].as_integer() == campaign["id"]))
    assert issued == 12
    listed = client.get(f"/api/v1/merchants/{shop.merchant.id}/campaigns", headers=manager).json()["items"]
    assert [c["id"] for c in listed] == [campaign["id"]]
    clerk = client.post(f"/api/v1/merchants/{shop.merchant.id}/campaigns",
                        json={"segment": "new", "template_id": template["id"]}, headers=auth(db, shop.clerk))
    assert clerk.status_code == 403


def test_a_campaign_cannot_send_another_merchants_template(client, db):
    shop, other = make_shop(db), make_shop(db, name="别家")
    _members(db, shop.merchant, 10)
    theirs = client.post(f"/api/v1/merchants/{other.merchant.id}/coupon-templates", json=template_body(),
                         headers=auth(db, other.manager)).json()
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/campaigns",
                           json={"segment": "all", "template_id": theirs["id"]}, headers=auth(db, shop.manager))
    assert response.status_code == 404 and response.json()["error"]["code"] == "coupon_template_not_found"
