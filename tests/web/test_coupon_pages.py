"""The coupon centre, my coupons, the checkout picker and the merchant's marketing console, as HTML pages."""

from datetime import date

import pytest
from sqlalchemy import select

from daodian.analytics.models import MemberSegment
from daodian.campaigns.models import Campaign
from daodian.coupons import service as coupons
from daodian.coupons.models import Coupon, CouponStatus, CouponTemplate
from daodian.coupons.schemas import TemplateCreate
from daodian.loyalty import points as ledger
from daodian.orders.models import Order
from tests.factories import make_shop, make_user, principal_of
from tests.marketing.helpers import template_body
from tests.web.support import csrf_from, english, log_in


@pytest.fixture
def shop(db):
    return make_shop(db, name="老王车行")


@pytest.fixture
def template(db, shop):
    return coupons.create_template(db, principal_of(db, shop.manager), shop.merchant.id,
                                   TemplateCreate(**template_body(name="满150减20")))


def _claim(client, template) -> None:
    response = client.post(f"/coupons/{template.id}/claim", data={"csrf_token": csrf_from(client, "/coupons")},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/me/coupons?claimed=1"


def test_the_centre_lists_claimable_coupons_and_a_claim_lands_in_my_coupons(client, db, shop, template):
    english(client)
    page = client.get("/coupons")
    assert page.status_code == 200 and "满150减20" in page.text and "老王车行" in page.text
    assert f'data-testid="claim-{template.id}"' not in page.text  # logged out: a login link instead
    consumer = make_user(db)
    log_in(client, db, consumer)
    _claim(client, template)
    coupon = db.scalars(select(Coupon).where(Coupon.consumer_id == consumer.id)).one()
    mine = client.get("/me/coupons?claimed=1")
    assert coupon.code in mine.text and "Coupon claimed." in mine.text
    assert client.get("/me/coupons?tab=used").text.count(coupon.code) == 0
    again = client.post(f"/coupons/{template.id}/claim", data={"csrf_token": csrf_from(client, "/coupons")},
                        follow_redirects=False)
    assert again.headers["location"] == "/coupons?problem=coupon_limit_reached"
    assert "You already hold" in client.get(again.headers["location"]).text


def test_a_claim_without_csrf_is_refused(client, db, template):
    log_in(client, db, make_user(db))
    assert client.post(f"/coupons/{template.id}/claim", data={}, follow_redirects=False).status_code == 403


def test_checkout_preselects_the_best_coupon_and_shows_points(client, db, shop, template):
    consumer = make_user(db)
    log_in(client, db, consumer)
    _claim(client, template)
    ledger.earn(db, consumer.id, 250, "test:page")
    coupon = db.scalars(select(Coupon).where(Coupon.consumer_id == consumer.id)).one()
    page = client.get(f"/buy/product/{shop.product.id}")  # 299.00: 满150减20 applies
    assert page.status_code == 200
    assert f'value="{coupon.id}" data-testid="coupon-{coupon.id}"\n      checked' in page.text
    assert 'data-testid="points-balance"' in page.text and "250" in page.text
    form = {"csrf_token": csrf_from(client, f"/buy/product/{shop.product.id}"), "form_key": "k-coupon-1",
            "sku_id": str(shop.sku.id), "quantity": "1", "fulfilment": "pickup", "store_id": str(shop.store.id),
            "coupon_ids": str(coupon.id), "points": "200"}
    response = client.post(f"/buy/product/{shop.product.id}", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    db.expire_all()
    order = db.scalars(select(Order).where(Order.consumer_id == consumer.id)).one()
    assert (order.total_fen, order.discount_fen, order.points_spent) == (29900 - 2000 - 200, 2000, 200)
    assert db.get(Coupon, coupon.id).status == CouponStatus.USED


def _members(db, merchant, count: int) -> None:
    for user in [make_user(db) for _ in range(count)]:
        db.add(MemberSegment(merchant_id=merchant.id, consumer_id=user.id, segment="new", recency_days=5,
                             frequency=1, monetary_fen=10000, r_score=3, f_score=3, m_score=3,
                             first_purchase_on=date(2026, 1, 1), last_purchase_on=date(2026, 11, 1),
                             as_of=date(2026, 11, 21)))
    db.flush()


def test_the_console_lists_templates_with_counts_and_creates_one(client, db, shop, template):
    english(client)
    claimer = make_user(db)
    coupons.issue(db, template.id, claimer.id, claim_no=1, channel="online")
    log_in(client, db, shop.manager)
    page = client.get(f"/merchant/{shop.merchant.id}/marketing")
    assert page.status_code == 200
    assert f'data-testid="remaining-{template.id}">99<' in page.text
    assert f'data-testid="claimed-{template.id}">1<' in page.text and f'data-testid="used-{template.id}">0<' in page.text
    form = {"csrf_token": csrf_from(client, f"/merchant/{shop.merchant.id}/marketing"), "name": "九折券",
            "kind": "percent", "percent_off": "10", "cap": "30", "threshold": "", "amount": "", "valid_days": "15",
            "claim_days": "3", "total_quantity": "50", "per_user_limit": "2"}
    created = client.post(f"/merchant/{shop.merchant.id}/marketing/templates", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text
    new = db.scalars(select(CouponTemplate).where(CouponTemplate.name == "九折券")).one()
    assert (new.percent_off, new.cap_fen, new.total_quantity, new.merchant_id) == (10, 3000, 50, shop.merchant.id)
    bad = client.post(f"/merchant/{shop.merchant.id}/marketing/templates", data={**form, "cap": "abc"})
    assert bad.status_code == 422


def test_the_console_shows_the_audience_and_suppresses_small_ones(client, db, shop, template):
    english(client)
    log_in(client, db, shop.manager)
    _members(db, shop.merchant, 4)
    small = client.get(f"/merchant/{shop.merchant.id}/marketing", params={"segment": "all"})
    assert 'data-testid="audience-size">fewer than 10<' in small.text
    assert 'data-testid="audience-suppressed"' in small.text and 'data-testid="send-campaign"' not in small.text
    csrf = csrf_from(client, f"/merchant/{shop.merchant.id}/marketing")
    refused = client.post(f"/merchant/{shop.merchant.id}/marketing/campaigns",
                          data={"csrf_token": csrf, "segment": "all", "template_id": str(template.id)})
    assert refused.status_code == 409 and 'data-testid="campaign-error"' in refused.text
    _members(db, shop.merchant, 8)
    big = client.get(f"/merchant/{shop.merchant.id}/marketing", params={"segment": "all"})
    assert 'data-testid="audience-size">12<' in big.text and 'data-testid="send-campaign"' in big.text
    sent = client.post(f"/merchant/{shop.merchant.id}/marketing/campaigns",
                       data={"csrf_token": csrf, "segment": "all", "template_id": str(template.id)},
                       follow_redirects=False)
    assert sent.status_code == 303, sent.text
    campaign = db.scalars(select(Campaign).where(Campaign.merchant_id == shop.merchant.id)).one()
    assert (campaign.audience, campaign.issued) == (12, 12)


def test_a_foreign_merchant_cannot_see_or_use_the_console(client, db, shop, template):
    other = make_shop(db, name="别家")
    log_in(client, db, other.owner)
    assert client.get(f"/merchant/{shop.merchant.id}/marketing").status_code in (403, 404)
    assert client.get(f"/merchant/{shop.merchant.id}/marketing", params={"segment": "all"}).status_code in (403, 404)
    csrf = csrf_from(client, f"/merchant/{other.merchant.id}/marketing")
    posted = client.post(f"/merchant/{shop.merchant.id}/marketing/templates", data={"csrf_token": csrf, "name": "x"})
    assert posted.status_code in (403, 404)
    sent = client.post(f"/merchant/{shop.merchant.id}/marketing/campaigns",
                       data={"csrf_token": csrf, "segment": "all", "template_id": str(template.id)})
    assert sent.status_code in (403, 404)
    log_in(client, db, shop.clerk)  # staff without catalog.manage: may look, not create
    assert client.get(f"/merchant/{shop.merchant.id}/marketing").status_code == 200
    assert client.post(f"/merchant/{shop.merchant.id}/marketing/templates",
                       data={"csrf_token": csrf_from(client, f"/merchant/{shop.merchant.id}/marketing"),
                             "name": "x"}).status_code == 403
