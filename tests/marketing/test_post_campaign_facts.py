"""Sending a post to a segment appends one `campaign.sent` fact: the merchant's, sized, never who."""

from sqlalchemy import select

from daodian.analytics.contract import violations
from daodian.kit.facts import Fact
from tests.factories import auth, make_shop
from tests.marketing.test_post_campaigns import _members, _post, _send


def test_a_sent_post_campaign_appends_a_campaign_sent_fact(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    _members(client, db, shop.merchant, 10, segment="new")
    post = _post(client, shop, manager, "facts", targeted=True)
    campaign = _send(client, shop, manager, segment="new", post_id=post["id"]).json()
    facts = db.scalars(select(Fact).where(Fact.kind == "campaign.sent", Fact.merchant_id == shop.merchant.id)).all()
    assert len(facts) == 1
    fact = facts[0]
    assert fact.payload == {"campaign_id": campaign["id"], "post_id": post["id"], "channel": "post", "segment": "new",
                            "inactive_days": campaign["inactive_days"], "audience": 10, "issued": 10}
    assert (fact.consumer_id, fact.store_id) == (None, None)  # sized, never who
    assert violations(fact.kind, fact.merchant_id, fact.store_id, fact.consumer_id, fact.payload) == []
    refused = _send(client, shop, manager, segment="returning", post_id=post["id"])  # too small: nothing sent
    assert refused.status_code == 409
    assert len(db.scalars(select(Fact).where(Fact.kind == "campaign.sent",
                                             Fact.merchant_id == shop.merchant.id)).all()) == 1


def test_the_contract_refuses_a_campaign_sent_fact_without_its_fields():
    assert violations("campaign.sent", None, None, None, {"campaign_id": 1, "post_id": 2, "channel": "sms",
                                                          "segment": "new", "audience": 10}) == [
        "campaign.sent: merchant_id not set", "campaign.sent: payload lacks issued",
        "campaign.sent: channel='sms' not in ['post']"]
