"""Segment-targeted posts: a merchant sends its post to a segment of its members, sized never listed; the
feed shows it only to recipients (and never with personalisation off); small segments are refused."""

from datetime import date

from sqlalchemy import func, select

from daodian.analytics.models import MemberSegment
from daodian.campaigns.models import Campaign
from daodian.follows.models import PostRecipient
from tests.factories import auth, make_shop, make_user
from tests.marketing.helpers import template_body
from tests.web.support import english, log_in

API = "/api/v1"


def _members(client, db, merchant, count: int, **segment) -> list[dict]:
    """Members of `merchant` in the analytics segment table, each following it; their auth headers."""
    values = {"segment": "active", "recency_days": 10, "frequency": 1, "monetary_fen": 10000, "r_score": 3,
              "f_score": 3, "m_score": 3} | segment
    people = []
    for _ in range(count):
        user = make_user(db)
        db.add(MemberSegment(merchant_id=merchant.id, consumer_id=user.id, first_purchase_on=date(2026, 1, 1),
                             last_purchase_on=date(2026, 11, 1), as_of=date(2026, 11, 21), **values))
        db.flush()
        headers = auth(db, user)
        assert client.post(f"{API}/merchants/{merchant.id}/follow", headers=headers).status_code == 201
        people.append(headers)
    return people


def _post(client, shop, manager, title: str, **extra) -> dict:
    response = client.post(f"{API}/merchants/{shop.merchant.id}/posts", headers=manager,
                           json={"title": title, "body": "本周会员专享", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _send(client, shop, manager, **body):
    return client.post(f"{API}/merchants/{shop.merchant.id}/campaigns", json=body, headers=manager)


def _titles(client, headers) -> list[str]:
    return [p["title"] for p in client.get(f"{API}/me/feed", headers=headers).json()["items"]]


def test_a_post_sent_to_a_segment_reaches_its_recipients_only(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    newcomers = _members(client, db, shop.merchant, 12, segment="new")
    regulars = _members(client, db, shop.merchant, 11)
    _post(client, shop, manager, "public")
    post = _post(client, shop, manager, "welcome", targeted=True)
    assert "welcome" not in _titles(client, newcomers[0])  # targeted: no one sees it before it is sent
    size = client.get(f"{API}/merchants/{shop.merchant.id}/audience", params={"segment": "new"},
                      headers=manager).json()
    assert (size["size"], size["targetable"]) == (12, True)

    sent = _send(client, shop, manager, segment="new", post_id=post["id"])

    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["post_id"], body["template_id"], body["audience"], body["issued"]) == (post["id"], None, 12, 12)
    assert "consumer" not in sent.text  # sized, never listed
    assert all(_titles(client, h) == ["welcome", "public"] for h in newcomers)
    assert all(_titles(client, h) == ["public"] for h in regulars)
    assert db.scalar(select(func.count()).select_from(PostRecipient).where(PostRecipient.post_id == post["id"])) == 12
    listed = client.get(f"{API}/merchants/{shop.merchant.id}/campaigns", headers=manager).json()["items"]
    assert [c["post_id"] for c in listed] == [post["id"]]


def test_sending_a_public_post_to_a_segment_narrows_it_to_the_recipients(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    newcomers = _members(client, db, shop.merchant, 10, segment="new")
    others = _members(client, db, shop.merchant, 10)
    post = _post(client, shop, manager, "news")
    assert _titles(client, others[0]) == ["news"]
    assert _send(client, shop, manager, segment="new", post_id=post["id"]).status_code == 201
    assert _titles(client, others[0]) == [] and _titles(client, newcomers[0]) == ["news"]
    again = _send(client, shop, manager, segment="all", post_id=post["id"])  # a second campaign adds the rest
    assert (again.status_code, again.json()["issued"]) == (201, 20)
    assert _titles(client, others[0]) == ["news"]


def test_a_recipient_with_personalisation_off_does_not_see_it(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    members = _members(client, db, shop.merchant, 11, segment="new")
    me = members[0]
    post = _post(client, shop, manager, "offer", targeted=True)
    assert _send(client, shop, manager, segment="new", post_id=post["id"]).status_code == 201
    assert _titles(client, me) == ["offer"]
    assert client.put(f"{API}/me/marketing-preferences", json={"personalised": False}, headers=me).status_code == 200
    assert _titles(client, me) == []
    late = _post(client, shop, manager, "later", targeted=True)  # opted out before: not even in the audience
    assert _send(client, shop, manager, segment="new", post_id=late["id"]).json()["audience"] == 10
    assert _titles(client, me) == [] and _titles(client, members[1]) == ["later", "offer"]


def test_a_segment_below_the_threshold_cannot_be_sent_a_post(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    few = _members(client, db, shop.merchant, 4, segment="new")
    _members(client, db, shop.merchant, 20)
    post = _post(client, shop, manager, "tiny", targeted=True)
    refused = _send(client, shop, manager, segment="new", post_id=post["id"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "audience_too_small"
    assert _titles(client, few[0]) == []
    assert db.scalar(select(func.count()).select_from(Campaign).where(Campaign.post_id == post["id"])) == 0


def test_another_merchants_post_is_not_found_and_a_campaign_needs_exactly_one_thing_to_send(client, db):
    shop, other = make_shop(db), make_shop(db, name="别家")
    manager = auth(db, shop.manager)
    _members(client, db, shop.merchant, 10, segment="new")
    foreign = _post(client, other, auth(db, other.manager), "theirs")
    missing = _send(client, shop, manager, segment="new", post_id=foreign["id"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "post_not_found"
    mine = _post(client, shop, manager, "mine")
    template = client.post(f"{API}/merchants/{shop.merchant.id}/coupon-templates", json=template_body(),
                           headers=manager).json()
    both = _send(client, shop, manager, segment="new", post_id=mine["id"], template_id=template["id"])
    neither = _send(client, shop, manager, segment="new")
    assert (both.status_code, neither.status_code) == (422, 422)
    assert _send(client, shop, manager, segment="new", template_id=template["id"]).status_code == 201  # coupons still


def test_deleting_a_sent_post_keeps_the_campaign_without_it(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    members = _members(client, db, shop.merchant, 10, segment="new")
    post = _post(client, shop, manager, "gone", targeted=True)
    campaign = _send(client, shop, manager, segment="new", post_id=post["id"]).json()
    deleted = client.delete(f"{API}/merchants/{shop.merchant.id}/posts/{post['id']}", headers=manager)
    assert deleted.status_code == 204
    assert _titles(client, members[0]) == []
    db.expire_all()
    assert db.get(Campaign, campaign["id"]).post_id is None
    assert db.scalar(select(func.count()).select_from(PostRecipient)) == 0


def test_the_marketing_console_lists_a_post_campaign(client, db):
    shop = make_shop(db)
    manager = auth(db, shop.manager)
    _members(client, db, shop.merchant, 10, segment="new")
    post = _post(client, shop, manager, "console", targeted=True)
    campaign = _send(client, shop, manager, segment="new", post_id=post["id"]).json()
    english(client)
    log_in(client, db, shop.manager)
    page = client.get(f"/merchant/{shop.merchant.id}/marketing")
    assert page.status_code == 200
    row = page.text.split(f'data-testid="campaign-row-{campaign["id"]}"')[1].split("</tr>")[0]
    assert "Post sent to the segment" in row and "None" not in row
