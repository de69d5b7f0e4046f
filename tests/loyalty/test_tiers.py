"""Member tiers: definitions, the scheduled evaluation (time moved by `now`), benefits, members by tier."""

from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from daodian import cli
from daodian.kit.clock import utcnow
from daodian.loyalty import points, tier_cli, tiers
from daodian.loyalty.models import PLATFORM_SCOPE, Membership, MemberTier, merchant_scope
from tests.factories import auth, make_shop, make_user
from tests.loyalty.test_earning import _pay
from tests.orders.helpers import create_order, pickup_body
from tests.web.support import english, log_in


def _tiers(client, db, shop) -> dict[str, int]:
    owner = auth(db, shop.owner)
    url = f"/api/v1/merchants/{shop.merchant.id}/tiers"
    made = {}
    for body in ({"name": "普通", "rank": 0},
                 {"name": "银卡", "rank": 1, "min_spend_fen": 50000, "points_multiplier_pct": 120},
                 {"name": "金卡", "rank": 2, "min_spend_fen": 1000000, "min_points": 5000, "discount_percent": 10}):
        response = client.post(url, json=body, headers=owner)
        assert response.status_code == 201, response.text
        made[body["name"]] = response.json()["id"]
    return made


def _member(db, consumer, scope: str) -> Membership:
    return db.scalar(select(Membership).where(Membership.consumer_id == consumer.id, Membership.scope == scope)
                     .execution_options(populate_existing=True))


def test_tier_definitions_refuse_a_taken_rank_and_are_the_merchants_own(client, db, shop):
    made = _tiers(client, db, shop)
    owner, url = auth(db, shop.owner), f"/api/v1/merchants/{shop.merchant.id}/tiers"
    taken = client.post(url, json={"name": "钻石", "rank": 2}, headers=owner)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "tier_conflict"
    bad = client.post(url, json={"name": "钻石", "rank": 3, "discount_percent": 80}, headers=owner)
    assert bad.status_code == 422
    assert [t["name"] for t in client.get(url, headers=owner).json()] == ["普通", "银卡", "金卡"]
    other = make_shop(db, name="别家")
    foreign = client.put(f"/api/v1/merchants/{other.merchant.id}/tiers/{made['金卡']}",
                         json={"name": "x", "rank": 5}, headers=auth(db, other.owner))
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "tier_not_found"
    assert client.get(url, headers=auth(db, other.owner)).status_code == 403


def test_evaluation_upgrades_then_downgrades_as_the_window_moves(client, db, settings, shop, consumer, me):
    made = _tiers(client, db, shop)
    _pay(client, settings, me, pickup_body(shop.sku, shop.store, quantity=2))  # 598.00: silver
    now = utcnow() + timedelta(minutes=1)
    first = tiers.evaluate(db, now=now)
    member = _member(db, consumer, merchant_scope(shop.merchant.id))
    assert (member.tier_id, member.rolling_spend_fen, member.tier_since) == (made["银卡"], 59800, now)
    assert _member(db, consumer, PLATFORM_SCOPE) is not None  # spending made a platform member
    assert first.created == 2 and first.upgraded >= 1
    again = tiers.evaluate(db, now=now)  # a rerun changes nothing
    assert (again.created, again.upgraded, again.downgraded) == (0, 0, 0)
    assert _member(db, consumer, merchant_scope(shop.merchant.id)).tier_since == now
    later = now + timedelta(days=400)  # the order left the window: back to the base tier
    moved = tiers.evaluate(db, now=later)
    member = _member(db, consumer, merchant_scope(shop.merchant.id))
    assert (member.tier_id, member.rolling_spend_fen, member.tier_since) == (made["普通"], 0, later)
    assert moved.downgraded == 1
    assert tiers.evaluate(db, now=later, window_days=500).upgraded == 1  # a longer window counts it again


def test_points_earned_in_the_window_qualify_too(client, db, settings, shop, consumer, me):
    made = _tiers(client, db, shop)
    points.earn(db, consumer.id, 5000, "campaign:1", merchant_id=shop.merchant.id)
    tiers.evaluate(db, now=utcnow() + timedelta(minutes=1))
    db.add(Membership(consumer_id=consumer.id, scope=merchant_scope(shop.merchant.id), merchant_id=shop.merchant.id))
    db.flush()
    tiers.evaluate(db, now=utcnow() + timedelta(minutes=2))
    assert _member(db, consumer, merchant_scope(shop.merchant.id)).tier_id == made["金卡"]


def test_the_tier_discount_comes_off_at_checkout_and_the_multiplier_scales_the_earn(client, db, settings, shop,
                                                                                      consumer, me):
    made = _tiers(client, db, shop)
    db.add(Membership(consumer_id=consumer.id, scope=merchant_scope(shop.merchant.id), merchant_id=shop.merchant.id,
                      tier_id=made["金卡"]))
    db.flush()
    order = create_order(client, me, pickup_body(shop.sku, shop.store))
    assert (order["total_fen"], order["discount_fen"]) == (29900 - 2990, 2990)  # 10% off
    paid = _pay(client, settings, me, pickup_body(shop.sku, shop.store))
    assert paid["paid_fen"] == 26910
    assert points.balance_of(db, consumer.id) == 269  # gold multiplies by 1x


def test_my_memberships_show_the_tier_and_its_benefits(client, db, settings, shop, consumer, me):
    made = _tiers(client, db, shop)
    _pay(client, settings, me, pickup_body(shop.sku, shop.store, quantity=2))
    tiers.evaluate(db, now=utcnow() + timedelta(minutes=1))
    mine = {m["scope"]: m for m in client.get("/api/v1/me/memberships", headers=me).json()}
    assert set(mine) == {merchant_scope(shop.merchant.id), PLATFORM_SCOPE}
    silver = mine[merchant_scope(shop.merchant.id)]["tier"]
    assert (silver["id"], silver["points_multiplier_pct"]) == (made["银卡"], 120)
    assert mine[PLATFORM_SCOPE]["tier"] is None  # the platform has no tiers yet


def test_members_by_tier_withholds_counts_below_the_privacy_threshold(client, db, shop):
    made = _tiers(client, db, shop)
    scope = merchant_scope(shop.merchant.id)
    for n in range(12):
        user = make_user(db)
        db.add(Membership(consumer_id=user.id, scope=scope, merchant_id=shop.merchant.id,
                          tier_id=made["普通"] if n < 10 else made["银卡"]))
    db.flush()
    summary = client.get(f"/api/v1/merchants/{shop.merchant.id}/tiers/summary", headers=auth(db, shop.clerk))
    assert summary.status_code == 200, summary.text
    rows = {row["name"]: row for row in summary.json()["tiers"]}
    assert rows["普通"]["members"] == 10
    assert (rows["银卡"]["members"], rows["银卡"]["fewer_than"]) == (None, 10)
    assert rows["金卡"]["members"] is None


def test_platform_tiers_are_for_operators_and_the_job_runs_from_the_cli(client, db, consumer, me):
    body = {"name": "平台会员", "rank": 1}
    assert client.post("/api/v1/platform/tiers", json=body, headers=me).status_code == 403
    operator = auth(db, make_user(db, operator=True))
    assert client.post("/api/v1/platform/tiers", json=body, headers=operator).status_code == 201
    assert db.scalar(select(MemberTier.name).where(MemberTier.scope == PLATFORM_SCOPE)) == "平台会员"


def test_the_evaluate_command_assigns_tiers(client, db, settings, shop, consumer, me, session_factory,
                                            monkeypatch):
    monkeypatch.setattr(tier_cli, "_factory", lambda: session_factory)
    made = _tiers(client, db, shop)
    _pay(client, settings, me, pickup_body(shop.sku, shop.store, quantity=2))
    db.flush()
    at = (utcnow() + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    result = CliRunner().invoke(cli.app, ["tiers", "evaluate", "--window-days", "30", "--now", at])
    assert result.exit_code == 0, result.output
    assert "memberships evaluated: 2 new" in result.output
    assert _member(db, consumer, merchant_scope(shop.merchant.id)).tier_id == made["银卡"]


def test_the_console_page_shows_counts_per_tier_only(client, db, shop):
    made = _tiers(client, db, shop)
    db.add(Membership(consumer_id=make_user(db).id, scope=merchant_scope(shop.merchant.id),
                      merchant_id=shop.merchant.id, tier_id=made["银卡"]))
    db.flush()
    log_in(client, db, shop.owner)
    page = client.get(f"/merchant/{shop.merchant.id}/members")
    assert page.status_code == 200, page.text
    assert "会员等级分布" in page.text and "银卡" in page.text and "10" in page.text
    english(client)
    assert "Members by tier" in client.get(f"/merchant/{shop.merchant.id}/members").text
    log_in(client, db, make_shop(db, name="别家").owner)
    assert client.get(f"/merchant/{shop.merchant.id}/members").status_code == 403
