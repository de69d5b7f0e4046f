"""Tier changes append `membership.tier_changed` facts: the evaluation's upgrades and downgrades, and a
merchant deleting a tier its members sit in."""

from datetime import timedelta

from sqlalchemy import select

from daodian.analytics.contract import violations
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from daodian.loyalty import tiers
from daodian.loyalty.models import Membership, merchant_scope
from tests.loyalty.test_earning import _pay
from tests.loyalty.test_tiers import _tiers
from tests.orders.helpers import pickup_body


def _changes(db, consumer) -> list[Fact]:
    return list(db.scalars(select(Fact).where(Fact.kind == "membership.tier_changed", Fact.consumer_id == consumer.id)
                           .order_by(Fact.id)))


def test_upgrades_downgrades_and_a_deleted_tier_each_append_a_fact(client, db, settings, shop, consumer, me):
    made = _tiers(client, db, shop)
    _pay(client, settings, me, pickup_body(shop.sku, shop.store, quantity=2))  # 598.00: silver
    now = utcnow() + timedelta(minutes=1)
    tiers.evaluate(db, now=now)
    member = db.scalar(select(Membership).where(Membership.consumer_id == consumer.id,
                                                Membership.scope == merchant_scope(shop.merchant.id)))
    [up] = _changes(db, consumer)  # the platform has no tiers: no change there
    assert (up.merchant_id, up.occurred_at, up.payload) == (shop.merchant.id, now, {
        "membership_id": member.id, "scope": merchant_scope(shop.merchant.id), "from_tier_id": None,
        "to_tier_id": made["银卡"], "reason": "evaluation", "direction": "up"})
    tiers.evaluate(db, now=now)  # a rerun: no change, no fact
    assert len(_changes(db, consumer)) == 1
    later = now + timedelta(days=400)
    tiers.evaluate(db, now=later)
    down = _changes(db, consumer)[-1]
    assert (down.payload["from_tier_id"], down.payload["to_tier_id"], down.payload["direction"]) == (
        made["银卡"], made["普通"], "down")
    tiers.delete_tier(db, tiers.get_tier(db, merchant_scope(shop.merchant.id), made["普通"]))
    deleted = _changes(db, consumer)[-1]
    assert (deleted.payload["from_tier_id"], deleted.payload["to_tier_id"], deleted.payload["reason"]) == (
        made["普通"], None, "tier_deleted")
    facts = _changes(db, consumer)
    assert len(facts) == 3
    assert [p for f in facts for p in violations(f.kind, f.merchant_id, f.store_id, f.consumer_id, f.payload)] == []
