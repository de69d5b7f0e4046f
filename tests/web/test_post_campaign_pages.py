"""The console page that sends a post to a segment: the audience's size first (never who, "fewer than N" and not
sendable below the threshold), then the send through the API's service; clerks read-only, other merchants 403."""

from datetime import date

import pytest
from sqlalchemy import func, select

from daodian.analytics.models import MemberSegment
from daodian.campaigns.models import Campaign
from daodian.campaigns.post_pages import audience_of
from daodian.follows import posts
from daodian.follows.models import MerchantPost, PostRecipient
from daodian.follows.schemas import PostIn
from tests.factories import make_shop, make_user, principal_of
from tests.web.support import csrf_from, english, log_in


def _members(db, merchant, count: int, **values) -> list:
    """Members of `merchant` in the analytics segment table (what `daodian facts job` writes)."""
    row = {"segment": "active", "recency_days": 10, "frequency": 1, "monetary_fen": 10000, "r_score": 3,
           "f_score": 3, "m_score": 3} | values
    people = [make_user(db, name=f"会员{i}") for i in range(count)]
    db.add_all(MemberSegment(merchant_id=merchant.id, consumer_id=u.id, first_purchase_on=date(2026, 1, 1),
                             last_purchase_on=date(2026, 11, 1), as_of=date(2026, 11, 21), **row) for u in people)
    db.flush()
    return people


@pytest.fixture
def scene(db):
    """25 members: 12 new, 10 returning who last came 40 days ago, 3 big spenders (too few to target)."""
    shop = make_shop(db, name="会员车行")
    newcomers = _members(db, shop.merchant, 12, segment="new")
    _members(db, shop.merchant, 10, recency_days=40, frequency=2)
    _members(db, shop.merchant, 3, m_score=5)
    post = posts.create_post(db, principal_of(db, shop.manager), shop.merchant.id,
                             PostIn(title="本周会员专享", body="到店洗车立减10元"))
    return {"shop": shop, "post": post, "newcomers": newcomers,
            "path": f"/merchant/{shop.merchant.id}/posts/{post.id}/campaign"}


def test_a_manager_sizes_a_segment_then_sends_the_post_to_it(client, db, scene):
    english(client)
    shop, post, path = scene["shop"], scene["post"], scene["path"]
    log_in(client, db, shop.manager)
    listing = client.get(f"/merchant/{shop.merchant.id}/posts")
    assert f'href="{path}"' in listing.text and f'data-testid="send-post-{post.id}"' in listing.text
    assert f'href="/merchant/{shop.merchant.id}/posts"' in client.get(f"/merchant/{shop.merchant.id}/marketing").text

    page = client.get(path)
    assert page.status_code == 200 and 'data-testid="audience-form"' in page.text
    assert 'data-testid="campaign-form"' not in page.text  # no size checked yet, nothing to send
    assert '<option value="inactive:30" >Inactive for 30 days</option>' in page.text
    assert "Not sent to a segment yet." in page.text

    sized = client.get(path, params={"segment": "new"})
    assert sized.status_code == 200 and 'data-testid="audience-size">12<' in sized.text
    assert "Send to 12 members" in sized.text
    assert not any(u.phone in sized.text or u.display_name in sized.text for u in scene["newcomers"])

    sent = client.post(path, data={"csrf_token": csrf_from(client, path), "segment": "new"}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"{path}?notice=sent"
    campaign = db.scalars(select(Campaign).where(Campaign.post_id == post.id)).one()
    assert (campaign.segment, campaign.audience, campaign.template_id) == ("new", 12, None)
    recipients = set(db.scalars(select(PostRecipient.consumer_id).where(PostRecipient.post_id == post.id)))
    assert recipients == {u.id for u in scene["newcomers"]}
    db.expire_all()
    assert db.get(MerchantPost, post.id).targeted
    after = client.get(sent.headers["location"])
    assert 'data-testid="notice"' in after.text and f'data-testid="campaign-audience-{campaign.id}">12<' in after.text
    assert "Only the members this post was sent to see it in their feeds." in after.text

    lapsed = client.get(path, params={"segment": "inactive:30"})
    assert 'data-testid="audience-size">10<' in lapsed.text
    again = client.post(path, data={"csrf_token": csrf_from(client, path), "segment": "inactive:30"},
                        follow_redirects=False)
    assert again.status_code == 303
    latest = db.scalars(select(Campaign).where(Campaign.post_id == post.id).order_by(Campaign.id.desc())).first()
    assert (latest.segment, latest.inactive_days, latest.audience) == ("inactive", 30, 10)
    assert "Inactive for 30 days" in client.get(path).text


def test_a_segment_below_the_threshold_shows_fewer_than_n_and_cannot_be_sent(client, db, scene):
    english(client)
    path = scene["path"]
    log_in(client, db, scene["shop"].owner)
    small = client.get(path, params={"segment": "high_value"})
    assert small.status_code == 200 and 'data-testid="audience-size">fewer than 10<' in small.text
    assert 'data-testid="audience-suppressed"' in small.text and 'data-testid="campaign-form"' not in small.text
    empty = client.get(path, params={"segment": "inactive:60"})  # no one: also "fewer than 10", never "0"
    assert 'data-testid="audience-size">fewer than 10<' in empty.text

    forced = client.post(path, data={"csrf_token": csrf_from(client, path), "segment": "high_value"})
    assert forced.status_code == 409 and 'data-code="audience_too_small"' in forced.text
    off_ladder = client.post(path, data={"csrf_token": csrf_from(client, path), "segment": "inactive:31"})
    assert off_ladder.status_code == 422 and 'data-code="invalid"' in off_ladder.text
    assert client.get(path, params={"segment": "inactive:31"}).status_code == 422
    assert client.get(path, params={"segment": "everyone"}).status_code == 422
    assert db.scalar(select(func.count()).select_from(Campaign).where(Campaign.post_id == scene["post"].id)) == 0


def test_clerks_read_only_other_merchants_403_foreign_posts_404_signed_out_to_login(client, db, scene):
    shop, path = scene["shop"], scene["path"]
    signed_out = client.get(path, follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login?next=")

    log_in(client, db, shop.clerk)
    page = client.get(path, params={"segment": "new"})
    assert page.status_code == 200 and 'data-testid="audience-size">12<' in page.text
    assert 'data-testid="campaign-form"' not in page.text
    assert f'data-testid="send-post-{scene["post"].id}"' not in client.get(f"/merchant/{shop.merchant.id}/posts").text
    refused = client.post(path, data={"csrf_token": csrf_from(client, path), "segment": "new"})
    assert refused.status_code == 403

    other = make_shop(db, name="别家车行")
    log_in(client, db, other.owner)
    assert client.get(path).status_code == 403
    own = f"/merchant/{other.merchant.id}/posts"
    assert client.post(path, data={"csrf_token": csrf_from(client, own), "segment": "new"}).status_code == 403
    foreign_post = f"{own}/{scene['post'].id}/campaign"  # their merchant, this merchant's post
    assert client.get(foreign_post).status_code == 404
    assert client.post(foreign_post, data={"csrf_token": csrf_from(client, own), "segment": "all"}).status_code == 404
    assert db.scalar(select(func.count()).select_from(Campaign).where(Campaign.post_id == scene["post"].id)) == 0


def test_segment_choices_name_only_ladder_audiences():
    assert audience_of("inactive:90").inactive_days == 90 and audience_of("returning").segment == "returning"
    assert audience_of("inactive:31") is None and audience_of("inactive") is None and audience_of(None) is None
