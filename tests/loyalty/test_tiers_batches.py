"""`daodian tiers evaluate` in batches: a few thousand memberships, keyset by id, one transaction per batch.

The batched run gives the same tiers, spends and counts as one run over everything (the old behaviour), commits
batch by batch (a failure half-way keeps the batches before it and a rerun finishes the job), stays idempotent,
and every tier change appends a `membership.tier_changed` fact that follows the analytics contract.
"""

import itertools
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from daodian.accounts.models import User
from daodian.analytics.contract import violations
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.loyalty import tiers
from daodian.loyalty.models import PLATFORM_SCOPE, Membership, MemberTier, merchant_scope
from daodian.records.models import ConsumptionRecord
from tests.factories import make_shop

CONSUMERS = 2600
SPEND = (0, 30000, 60000, 120000)  # by consumer index % 4: none, base tier, silver, gold (fen)
_batches = itertools.count(1)


@pytest.fixture
def world(db):
    """A shop with three tiers; 2,600 consumers, three in four of them with offline spend there, one in five
    already a member (a follower) sitting in the gold tier; about 4,500 memberships once spenders enrol."""
    shop = make_shop(db)
    scope = merchant_scope(shop.merchant.id)
    made = {}
    for name, rank, min_spend in (("普通", 0, 1), ("银卡", 1, 50000), ("金卡", 2, 100000)):
        tier = MemberTier(scope=scope, merchant_id=shop.merchant.id, name=name, rank=rank, min_spend_fen=min_spend)
        db.add(tier)
        db.flush()
        made[name] = tier.id
    batch, now = next(_batches), utcnow()
    phones = [f"+86166{batch:02d}{i:06d}" for i in range(CONSUMERS)]
    db.execute(insert(User), [{"phone": p, "display_name": "顾客", "password_hash": "x", "is_operator": False,
                               "is_active": True, "failed_logins": 0, "created_at": now} for p in phones])
    ids = dict(db.execute(select(User.phone, User.id).where(User.phone.in_(phones))).all())
    consumers = [ids[p] for p in phones]
    db.execute(insert(ConsumptionRecord), [
        {"merchant_id": shop.merchant.id, "store_id": shop.store.id, "receipt_id": f"B{batch}-{i}", "consumer_id": c,
         "identified_by": "phone", "recorded_by": shop.clerk.id, "source": "pos", "currency": "CNY",
         "occurred_at": now - timedelta(days=3), "total_fen": SPEND[i % 4], "content_hash": "0" * 64,
         "created_at": now} for i, c in enumerate(consumers) if SPEND[i % 4]])
    db.execute(insert(Membership), [
        {"consumer_id": c, "scope": scope, "merchant_id": shop.merchant.id, "tier_id": made["金卡"],
         "since": now - timedelta(days=30), "tier_since": now - timedelta(days=30), "rolling_spend_fen": 0}
        for i, c in enumerate(consumers) if i % 5 == 0])
    db.flush()
    return shop, made, consumers


def _expected(shop, made, consumers) -> dict[tuple[int, str], tuple[int | None, int]]:
    """(consumer, scope) -> (tier id, rolling spend), recounted here from the world's rules."""
    scope, out = merchant_scope(shop.merchant.id), {}
    for i, consumer in enumerate(consumers):
        fen = SPEND[i % 4]
        if fen or i % 5 == 0:
            tier = "金卡" if fen >= 100000 else "银卡" if fen >= 50000 else "普通" if fen >= 1 else None
            out[(consumer, scope)] = (made[tier] if tier else None, fen)
        if fen:
            out[(consumer, PLATFORM_SCOPE)] = (None, fen)  # the platform has no tiers here
    return out


def _state(db, consumers) -> dict[tuple[int, str], tuple[int | None, int]]:
    rows = db.execute(select(Membership.consumer_id, Membership.scope, Membership.tier_id, Membership.rolling_spend_fen)
                      .where(Membership.consumer_id.in_(consumers))
                      .execution_options(populate_existing=True)).all()
    return {(c, s): (t, fen) for c, s, t, fen in rows}


class Transactions:
    """Each batch in its own unit of work on the test's connection (commits are savepoint releases), counted;
    optionally failing when the `fail_at`-th transaction begins."""

    def __init__(self, session_factory, fail_at: int | None = None):
        self.factory, self.fail_at, self.count, self.largest = session_factory, fail_at, 0, 0

    @contextmanager
    def __call__(self):
        self.count += 1
        if self.count == self.fail_at:
            raise RuntimeError("the job was stopped")
        with unit_of_work(self.factory) as session:
            yield session
            self.largest = max(self.largest, len(session.identity_map))


def test_batches_give_the_same_result_as_one_pass_and_commit_one_by_one(db, session_factory, world):
    shop, made, consumers = world
    now = utcnow() + timedelta(minutes=1)
    expected = _expected(shop, made, consumers)
    members = sum(1 for _ in expected)
    spenders = sum(1 for i in range(CONSUMERS) if SPEND[i % 4])

    with db.begin_nested() as one_pass:  # the old way: everything at once, in one transaction
        single = tiers.evaluate(db, now=now, batch_size=10 ** 9)
        assert _state(db, consumers) == expected
        one_pass.rollback()
    assert single.memberships == members and single.created == members - CONSUMERS // 5

    run = Transactions(session_factory)
    batched = tiers.evaluate_in_batches(run, now=now, batch_size=1000)
    assert batched == single
    assert _state(db, consumers) == expected
    assert run.count == 1 + (spenders // 1000 + 1) + (members // 1000 + 1)  # the tiers, then batch by batch
    assert run.largest <= 2 * 1000 < members  # a batch's memberships and their facts (or a batch of spenders'
    # new memberships, one per merchant and the platform), never everyone

    changes = db.scalars(select(Fact).where(Fact.kind == "membership.tier_changed",
                                            Fact.consumer_id.in_(consumers))).all()
    assert len(changes) == batched.upgraded + batched.downgraded
    assert [p for f in changes for p in violations(f.kind, f.merchant_id, f.store_id, f.consumer_id, f.payload)] == []
    downgraded = [f for f in changes if f.payload["direction"] == "down"]
    assert len(downgraded) == batched.downgraded and {f.payload["from_tier_id"] for f in downgraded} == {made["金卡"]}
    assert {f.merchant_id for f in changes} == {shop.merchant.id} and {f.payload["reason"] for f in changes} == {
        "evaluation"}

    again = tiers.evaluate_in_batches(Transactions(session_factory), now=now, batch_size=1000)
    assert (again.memberships, again.created, again.upgraded, again.downgraded) == (members, 0, 0, 0)
    assert db.scalar(select(func.count()).select_from(Fact).where(Fact.kind == "membership.tier_changed",
                                                                  Fact.consumer_id.in_(consumers))) == len(changes)


def test_a_run_stopped_half_way_keeps_its_committed_batches_and_a_rerun_finishes(db, session_factory, world):
    shop, made, consumers = world
    now = utcnow() + timedelta(minutes=1)
    spenders = sum(1 for i in range(CONSUMERS) if SPEND[i % 4])
    stopped_at = 1 + (spenders // 1000 + 1) + 3  # the tiers, the enrolment, then two batches of memberships
    with pytest.raises(RuntimeError):
        tiers.evaluate_in_batches(Transactions(session_factory, fail_at=stopped_at), now=now, batch_size=1000)
    done = db.scalar(select(func.count()).select_from(Membership).where(Membership.consumer_id.in_(consumers),
                                                                        Membership.last_evaluated_at == now))
    evaluated = db.scalars(select(Membership.id).where(Membership.last_evaluated_at == now)
                           .order_by(Membership.id)).all()
    first = db.scalars(select(Membership.id).order_by(Membership.id).limit(2000)).all()
    assert evaluated == first and done > 0  # exactly the first two batches, by id
    rest = tiers.evaluate_in_batches(Transactions(session_factory), now=now, batch_size=1000)
    assert rest.created == 0  # the enrolment was committed before the stop
    assert _state(db, consumers) == _expected(shop, made, consumers)
