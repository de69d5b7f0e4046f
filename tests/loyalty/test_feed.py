"""The feed: followed merchants' posts, newest first; targeted posts only for those who qualify; with
personalisation switched off (PIPL Art. 24) only public posts."""

from daodian.accounts.models import StaffMembership
from daodian.follows.models import MerchantPost
from daodian.loyalty.models import Membership, MemberTier, merchant_scope
from tests.factories import auth, make_merchant, make_user

API = "/api/v1"


def _post(db, merchant, title, **targeting) -> MerchantPost:
    post = MerchantPost(merchant_id=merchant.id, author_id=merchant_owner(db, merchant), title=title, body="…",
                        **targeting)
    db.add(post)
    db.flush()
    return post


def merchant_owner(db, merchant) -> int:
    return next(m.user_id for m in db.query(StaffMembership).filter_by(merchant_id=merchant.id))


def _titles(client, headers, **params) -> tuple[bool, list[str]]:
    body = client.get(f"{API}/me/feed", headers=headers, params=params).json()
    return body["personalised"], [p["title"] for p in body["items"]]


def _scene(client, db):
    shop, unfollowed = make_merchant(db, make_user(db)), make_merchant(db, make_user(db), name="未关注")
    gold = MemberTier(scope=merchant_scope(shop.id), merchant_id=shop.id, name="金卡", rank=2)
    db.add(gold)
    db.flush()
    _post(db, shop, "public-1")
    _post(db, shop, "members")
    _post(db, shop, "gold", members_only=True, min_tier_rank=2)
    _post(db, shop, "platinum", members_only=True, min_tier_rank=3)
    _post(db, unfollowed, "elsewhere")
    _post(db, shop, "public-2")
    db.query(MerchantPost).filter_by(title="members").update({"members_only": True})
    fan = make_user(db)
    headers = auth(db, fan)
    assert client.post(f"{API}/merchants/{shop.id}/follow", headers=headers).status_code == 201
    return shop, fan, headers, gold


def test_a_member_sees_public_and_members_only_posts_newest_first_not_others(client, db):
    _, _, headers, _ = _scene(client, db)
    assert _titles(client, headers) == (True, ["public-2", "members", "public-1"])


def test_tier_targeted_posts_reach_members_of_that_rank_or_above(client, db):
    shop, fan, headers, gold = _scene(client, db)
    membership = db.query(Membership).filter_by(consumer_id=fan.id, scope=merchant_scope(shop.id)).one()
    membership.tier_id = gold.id
    db.flush()
    assert _titles(client, headers) == (True, ["public-2", "gold", "members", "public-1"])


def test_switching_personalisation_off_leaves_only_public_posts_and_on_again_restores(client, db):
    shop, fan, headers, gold = _scene(client, db)
    db.query(Membership).filter_by(consumer_id=fan.id).update({"tier_id": gold.id})
    assert client.put(f"{API}/me/marketing-preferences", json={"personalised": False}, headers=headers).status_code \
        == 200
    assert _titles(client, headers) == (False, ["public-2", "public-1"])
    client.put(f"{API}/me/marketing-preferences", json={"personalised": True}, headers=headers)
    assert _titles(client, headers)[1] == ["public-2", "gold", "members", "public-1"]


def test_unfollowing_empties_the_feed_and_the_feed_pages_newest_first(client, db):
    shop, _, headers, _ = _scene(client, db)
    first = client.get(f"{API}/me/feed", headers=headers, params={"limit": 2}).json()
    assert [p["title"] for p in first["items"]] == ["public-2", "members"]
    second = client.get(f"{API}/me/feed", headers=headers, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [p["title"] for p in second["items"]] == ["public-1"] and second["next_cursor"] is None
    client.delete(f"{API}/merchants/{shop.id}/follow", headers=headers)
    assert _titles(client, headers) == (True, [])
    assert client.get(f"{API}/me/feed").status_code == 401
    assert client.get(f"{API}/me/feed", headers=headers, params={"cursor": "x"}).json()["error"]["code"] == \
        "invalid_cursor"
