"""The feed page with its personalisation switch, the follow button on the store page, and the merchant
console's posts page, as HTML."""

from sqlalchemy import select

from daodian.accounts.models import MarketingPreference
from daodian.follows.models import Follow, MerchantPost
from tests.factories import make_shop, make_user
from tests.web.support import csrf_from, english, log_in


def test_follow_from_the_store_page_then_the_feed_shows_posts_and_the_switch_hides_targeted_ones(client, db):
    shop, fan = make_shop(db, name="老王车行"), make_user(db)
    db.add_all([MerchantPost(merchant_id=shop.merchant.id, author_id=shop.owner.id, title="公开通知", body="周末营业"),
                MerchantPost(merchant_id=shop.merchant.id, author_id=shop.owner.id, title="会员专享", body="八折",
                             members_only=True)])
    db.flush()
    english(client)
    assert 'data-testid="follow-login"' in client.get(f"/s/{shop.store.id}").text  # signed out: a login link
    assert client.get("/feed", follow_redirects=False).status_code == 303
    log_in(client, db, fan)
    store_page = client.get(f"/s/{shop.store.id}")
    assert ">Follow<" in store_page.text and "0 followers" in store_page.text
    csrf = csrf_from(client, f"/s/{shop.store.id}")
    swapped = client.post(f"/follow/{shop.merchant.id}", data={"csrf_token": csrf, "next": f"/s/{shop.store.id}"},
                          headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and ">Unfollow<" in swapped.text and "1 followers" in swapped.text
    assert db.get(Follow, (fan.id, shop.merchant.id)) is not None
    feed = client.get("/feed")
    assert "公开通知" in feed.text and "会员专享" in feed.text and "Turn personalisation off" in feed.text
    off = client.post("/feed/personalisation", data={"csrf_token": csrf_from(client, "/feed"), "personalised": "off"},
                      follow_redirects=False)
    assert off.status_code == 303 and db.get(MarketingPreference, fan.id).personalised is False
    feed = client.get("/feed")
    assert "公开通知" in feed.text and "会员专享" not in feed.text and 'data-testid="not-personalised"' in feed.text
    back = client.post(f"/unfollow/{shop.merchant.id}", data={"csrf_token": csrf, "next": f"/s/{shop.store.id}"},
                       follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"/s/{shop.store.id}"
    assert 'data-testid="feed-empty"' in client.get("/feed").text


def test_follow_without_the_csrf_token_is_refused(client, db):
    shop, fan = make_shop(db), make_user(db)
    log_in(client, db, fan)
    assert client.post(f"/follow/{shop.merchant.id}", data={}).status_code == 403
    assert db.get(Follow, (fan.id, shop.merchant.id)) is None


def test_the_posts_console_publishes_and_deletes_and_a_clerk_only_reads(client, db):
    shop = make_shop(db, name="老王车行")
    english(client)
    log_in(client, db, shop.manager)
    url = f"/merchant/{shop.merchant.id}/posts"
    csrf = csrf_from(client, url)
    bad = client.post(url, data={"csrf_token": csrf, "title": "", "body": "x", "audience": "all"})
    assert bad.status_code == 422 and 'data-testid="error-title"' in bad.text
    tier = client.post(url, data={"csrf_token": csrf, "title": "金卡", "body": "x", "audience": "tier"})
    assert tier.status_code == 422 and 'data-testid="error-min_tier_rank"' in tier.text
    created = client.post(url, data={"csrf_token": csrf, "title": "新品上架", "body": "欢迎", "audience": "members"},
                          follow_redirects=False)
    assert created.status_code == 303
    post = db.scalars(select(MerchantPost).where(MerchantPost.merchant_id == shop.merchant.id)).one()
    assert post.members_only and post.author_id == shop.manager.id
    page = client.get(f"{url}?notice=created")
    assert "新品上架" in page.text and "Post published." in page.text and "Members only" in page.text
    log_in(client, db, shop.clerk)
    as_clerk = client.get(url)
    assert as_clerk.status_code == 200 and "新品上架" in as_clerk.text and 'data-testid="post-form"' not in as_clerk.text
    clerk_csrf = csrf_from(client, url)
    assert client.post(f"{url}/{post.id}/delete", data={"csrf_token": clerk_csrf}).status_code == 403
    log_in(client, db, shop.owner)
    post_id = post.id
    gone = client.post(f"{url}/{post_id}/delete", data={"csrf_token": csrf_from(client, url)}, follow_redirects=False)
    db.expire_all()
    assert gone.status_code == 303 and db.get(MerchantPost, post_id) is None


def test_another_merchants_owner_cannot_open_or_post_to_the_console(client, db):
    shop, other = make_shop(db), make_shop(db, name="别家")
    log_in(client, db, other.owner)
    url = f"/merchant/{shop.merchant.id}/posts"
    assert client.get(url).status_code == 403
    csrf = csrf_from(client, f"/merchant/{other.merchant.id}/posts")
    assert client.post(url, data={"csrf_token": csrf, "title": "t", "body": "b", "audience": "all"}).status_code == 403
    assert db.scalars(select(MerchantPost)).all() == []
