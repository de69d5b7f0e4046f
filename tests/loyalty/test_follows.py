"""Following a merchant: idempotent, makes a member, unfollow keeps the membership; posts are the
merchant's own to publish."""

import httpx
from sqlalchemy import select

from daodian.accounts.models import StaffRole
from daodian.follows.models import Follow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.loyalty.models import Membership, merchant_scope
from daodian.merchants.models import MerchantStatus
from tests.factories import add_staff, auth, make_merchant, make_user
from tests.marketing.helpers import template_body
from tests.orders.helpers import in_parallel, statuses

API = "/api/v1"


def test_following_twice_is_201_then_200_and_creates_one_membership(client, db):
    owner, fan = make_user(db), make_user(db)
    merchant = make_merchant(db, owner)
    headers = auth(db, fan)
    first = client.post(f"{API}/merchants/{merchant.id}/follow", headers=headers)
    again = client.post(f"{API}/merchants/{merchant.id}/follow", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["created_at"] == again.json()["created_at"]
    memberships = list(db.scalars(select(Membership).where(Membership.consumer_id == fan.id)))
    assert [m.scope for m in memberships] == [merchant_scope(merchant.id)]
    facts = list(db.scalars(select(Fact).where(Fact.kind == "follow.created", Fact.consumer_id == fan.id)))
    assert len(facts) == 1 and facts[0].merchant_id == merchant.id
    assert client.get(f"{API}/me/follows", headers=headers).json()["items"][0]["merchant_id"] == merchant.id
    count = client.get(f"{API}/merchants/{merchant.id}/followers").json()
    assert count == {"merchant_id": merchant.id, "followers": 1, "following": None}
    assert client.get(f"{API}/merchants/{merchant.id}/followers", headers=headers).json()["following"] is True


def test_unfollow_removes_the_follow_keeps_the_membership_and_is_idempotent(client, db):
    merchant, fan = make_merchant(db, make_user(db)), make_user(db)
    headers = auth(db, fan)
    client.post(f"{API}/merchants/{merchant.id}/follow", headers=headers)
    assert client.delete(f"{API}/merchants/{merchant.id}/follow", headers=headers).status_code == 204
    assert client.delete(f"{API}/merchants/{merchant.id}/follow", headers=headers).status_code == 204
    assert db.get(Follow, (fan.id, merchant.id)) is None
    assert db.scalar(select(Membership.id).where(Membership.consumer_id == fan.id)) is not None
    assert client.get(f"{API}/me/follows", headers=headers).json()["items"] == []
    deleted = db.scalars(select(Fact).where(Fact.kind == "follow.deleted", Fact.consumer_id == fan.id)).all()
    assert len(deleted) == 1
    assert client.post(f"{API}/merchants/{merchant.id}/follow", headers=headers).status_code == 201  # again
    assert len(db.scalars(select(Membership).where(Membership.consumer_id == fan.id)).all()) == 1


def test_a_closed_or_missing_merchant_cannot_be_followed_and_anonymous_is_401(client, db):
    closed = make_merchant(db, make_user(db), status=MerchantStatus.CLOSED)
    headers = auth(db, make_user(db))
    assert client.post(f"{API}/merchants/{closed.id}/follow", headers=headers).json()["error"]["code"] == \
        "merchant_not_found"
    assert client.post(f"{API}/merchants/999999/follow", headers=headers).status_code == 404
    assert client.post(f"{API}/merchants/{closed.id}/follow").status_code == 401


def test_owner_and_manager_post_clerk_consumer_and_foreign_owner_cannot(client, db):
    owner, manager, clerk, fan, other_owner = (make_user(db) for _ in range(5))
    merchant, other = make_merchant(db, owner), make_merchant(db, other_owner, name="别家")
    add_staff(db, merchant, manager, StaffRole.MANAGER)
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    url, body = f"{API}/merchants/{merchant.id}/posts", {"title": "新品", "body": "欢迎到店"}
    assert client.post(url, json=body, headers=auth(db, owner)).status_code == 201
    assert client.post(url, json=body, headers=auth(db, manager)).status_code == 201
    assert client.post(url, json=body, headers=auth(db, clerk)).status_code == 403
    assert client.post(url, json=body, headers=auth(db, fan)).status_code == 403
    assert client.post(url, json=body, headers=auth(db, other_owner)).status_code == 403
    assert client.post(url, json=body).status_code == 401
    listed = client.get(url, headers=auth(db, clerk)).json()["items"]  # clerks may read the console
    assert len(listed) == 2
    post_id = listed[0]["id"]
    assert client.delete(f"{url}/{post_id}", headers=auth(db, clerk)).status_code == 403
    foreign = client.delete(f"{API}/merchants/{other.id}/posts/{post_id}", headers=auth(db, other_owner))
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "post_not_found"
    assert client.delete(f"{url}/{post_id}", headers=auth(db, owner)).status_code == 204
    assert client.delete(f"{url}/{post_id}", headers=auth(db, owner)).status_code == 404


def test_a_post_may_attach_only_the_merchants_own_coupon_template(client, db):
    owner, other_owner = make_user(db), make_user(db)
    merchant, other = make_merchant(db, owner), make_merchant(db, other_owner, name="别家")
    theirs = client.post(f"{API}/merchants/{other.id}/coupon-templates", json=template_body(),
                         headers=auth(db, other_owner)).json()["id"]
    mine = client.post(f"{API}/merchants/{merchant.id}/coupon-templates", json=template_body(),
                       headers=auth(db, owner)).json()["id"]
    url = f"{API}/merchants/{merchant.id}/posts"
    refused = client.post(url, json={"title": "券", "body": "领券", "coupon_template_id": theirs},
                          headers=auth(db, owner))
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "coupon_template_not_found"
    ok = client.post(url, json={"title": "券", "body": "领券", "coupon_template_id": mine}, headers=auth(db, owner))
    assert ok.status_code == 201 and ok.json()["coupon_template_id"] == mine


def test_bad_post_input_is_a_clear_422(client, db):
    owner = make_user(db)
    merchant = make_merchant(db, owner)
    url = f"{API}/merchants/{merchant.id}/posts"
    for body in ({"title": "", "body": "x"}, {"title": "x" * 81, "body": "x"}, {"title": "t", "body": "b", "x": 1},
                 {"title": "t", "body": "b", "min_tier_rank": 0}, {"title": "t", "body": "b", "members_only": "maybe"},
                 {"title": "t\u0000", "body": "b"}):
        response = client.post(url, json=body, headers=auth(db, owner))
        assert response.status_code == 422, body
        assert response.json()["error"]["code"]


def test_20_parallel_first_follows_make_one_follow_one_membership_one_fact(live_server):
    with unit_of_work(live_server.session_factory) as session:
        merchant, fan = make_merchant(session, make_user(session)), make_user(session)
        headers = auth(session, fan)
        merchant_id, fan_id = merchant.id, fan.id

    responses = in_parallel(20, lambda i: httpx.post(f"{live_server.url}{API}/merchants/{merchant_id}/follow",
                                                     headers=headers, timeout=120))
    assert statuses(responses) == {201: 1, 200: 19}, statuses(responses)
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert len(session.scalars(select(Membership).where(Membership.consumer_id == fan_id)).all()) == 1
        assert len(session.scalars(select(Fact).where(Fact.kind == "follow.created",
                                                      Fact.consumer_id == fan_id)).all()) == 1
