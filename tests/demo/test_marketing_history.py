"""The demo history's coupons, points, follows and tiers keep the rules the live marketing/loyalty code keeps."""

from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from daodian.analytics.contract import violations
from daodian.coupons import service as coupons
from daodian.coupons.models import Coupon, CouponTemplate
from daodian.demo.generate import build_demo_city
from daodian.demo.history.marketing import EARN_FEN_PER_POINT
from daodian.follows.models import Follow
from daodian.kit import codes
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.facts import Fact
from daodian.loyalty import points
from daodian.loyalty.models import Membership, MemberTier, PointsAccount, PointsEntry, PointsTransaction
from daodian.merchants.models import Store
from daodian.orders.models import Order
from tests.support.databases import prepare_database

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
KINDS = ("coupon.claimed", "coupon.used", "coupon.expired", "points.entry", "follow.created")


@pytest.fixture(scope="module")
def factory(backend, tmp_path_factory):
    settings = prepare_database(backend, "daodian_test_marketing_history", tmp_path_factory.mktemp("mh"))
    engine = create_db_engine(settings)
    with unit_of_work(make_session_factory(engine)) as session:
        build_demo_city(session, stores=300, consumers=1500, seed=11, now=NOW, history_days=90)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def db(factory):
    with factory() as session:
        yield session
        session.rollback()


def test_every_kind_of_row_is_there(db):
    for model in (CouponTemplate, Coupon, PointsAccount, PointsTransaction, PointsEntry, MemberTier, Follow,
                  Membership):
        assert db.scalar(select(func.count()).select_from(model)) > 0, model.__tablename__
    statuses = set(db.scalars(select(Coupon.status).distinct()))
    assert {"available", "used", "expired"} <= statuses
    assert {"earn", "expire"} <= set(db.scalars(select(PointsTransaction.kind).distinct()))


def test_points_reconcile_and_never_go_negative(db):
    result = points.reconcile(db)
    assert result.clean and result.accounts > 0 and result.ledger_total == 0
    assert db.scalar(select(func.count()).select_from(PointsAccount).where(
        PointsAccount.kind == "consumer", PointsAccount.balance < 0)) == 0
    # nothing more lapses when the expiry job runs at the history's end (first-in first-out kept)
    assert points.expire_all(db, NOW) == 0


def test_order_points_follow_the_default_rate(db):
    orders = {o.id: o for o in db.scalars(select(Order))}
    earned = db.scalars(select(PointsTransaction).where(PointsTransaction.kind == "earn",
                                                        PointsTransaction.reference.like("order:%"))).all()
    assert earned
    for txn in earned:
        order = orders[int(txn.reference.split(":")[1])]
        assert order.status in ("paid", "fulfilled", "completed", "voucher_issued")
        assert (txn.consumer_id, txn.merchant_id) == (order.consumer_id, order.merchant_id)
        assert txn.points == order.paid_fen // EARN_FEN_PER_POINT and txn.created_at == order.paid_at


def test_used_coupons_belong_to_their_merchant(db):
    store_merchant = dict(db.execute(select(Store.id, Store.merchant_id)).all())
    used = db.scalars(select(Coupon).where(Coupon.status == "used")).all()
    assert used
    for coupon in used:
        if coupon.used_order_id is not None:
            assert db.get(Order, coupon.used_order_id).merchant_id == coupon.merchant_id
        else:  # the counter redemption path
            assert store_merchant[coupon.used_store_id] == coupon.merchant_id
        assert coupon.valid_from <= coupon.used_at < coupon.valid_until and coupon.used_at <= NOW
        assert coupon.discount_fen > 0
    for fact in db.scalars(select(Fact).where(Fact.kind == "coupon.used")):
        coupon = db.get(Coupon, fact.payload["coupon_id"])
        assert fact.payload["at"] == "counter" and fact.store_id == coupon.used_store_id
        assert fact.merchant_id == coupon.merchant_id and fact.payload["discount_fen"] == coupon.discount_fen


def test_coupon_stock_adds_up(db):
    claimed = Counter(db.scalars(select(Coupon.template_id)))
    for template in db.scalars(select(CouponTemplate)):
        assert claimed[template.id] <= template.total_quantity
        assert template.remaining == template.total_quantity - claimed[template.id]
    for coupon in db.scalars(select(Coupon)):
        assert codes.is_valid(coupon.code) and coupon.claimed_at <= NOW
        assert (coupon.status == "expired") == (coupon.status != "used" and coupon.valid_until <= NOW)
    assert coupons.expire_due(db, NOW) == 0  # the job finds nothing left to expire


def test_follows_have_memberships_and_tiers_follow_spend(db):
    members = {(m.consumer_id, m.merchant_id): m for m in db.scalars(select(Membership))}
    follows = db.scalars(select(Follow)).all()
    assert follows and len(members) == len(follows)
    tiers = defaultdict(list)
    for tier in db.scalars(select(MemberTier)):
        assert tier.scope == f"merchant:{tier.merchant_id}"
        tiers[tier.merchant_id].append(tier)
    spend = dict(((c, m), int(s)) for c, m, s in db.execute(
        select(Order.consumer_id, Order.merchant_id, func.sum(Order.paid_fen))
        .where(Order.status.in_(("paid", "fulfilled", "completed", "voucher_issued")))
        .group_by(Order.consumer_id, Order.merchant_id)).all())
    tiered = 0
    for follow in follows:
        member = members[(follow.consumer_id, follow.merchant_id)]
        assert member.scope == f"merchant:{follow.merchant_id}" and member.since == follow.created_at
        assert member.rolling_spend_fen == spend[(follow.consumer_id, follow.merchant_id)]
        reached = [t for t in tiers[follow.merchant_id] if t.min_spend_fen <= member.rolling_spend_fen]
        best = max(reached, key=lambda t: t.rank, default=None)
        assert member.tier_id == (best.id if best else None)
        tiered += best is not None
    assert tiered > 0
    followed = Counter((f.consumer_id, f.merchant_id) for f in db.scalars(
        select(Fact).where(Fact.kind == "follow.created")))
    assert followed == Counter((f.consumer_id, f.merchant_id) for f in follows)


def test_fact_counts_match_rows_and_keep_the_contract(db):
    count = dict(db.execute(select(Fact.kind, func.count()).where(Fact.kind.in_(KINDS)).group_by(Fact.kind)).all())
    by_status = dict(db.execute(select(Coupon.status, func.count()).group_by(Coupon.status)).all())
    assert count["coupon.claimed"] == sum(by_status.values())
    assert count["coupon.used"] == by_status["used"] and count["coupon.expired"] == by_status["expired"]
    assert count["points.entry"] == db.scalar(select(func.count()).select_from(PointsEntry))
    assert count["follow.created"] == db.scalar(select(func.count()).select_from(Follow))
    for fact in db.scalars(select(Fact).where(Fact.kind.in_(KINDS))):
        assert violations(fact.kind, fact.merchant_id, fact.store_id, fact.consumer_id, fact.payload) == []
        assert fact.occurred_at <= NOW
    entries = {e.id: e for e in db.scalars(select(PointsEntry))}
    for fact in db.scalars(select(Fact).where(Fact.kind == "points.entry")):
        assert entries[fact.payload["entry_id"]].delta == fact.payload["delta_points"]


def test_live_ledger_writes_continue_after_the_demo(db):
    """The bulk ids leave the sequences ahead: a live earn lands after the demo's rows and still reconciles."""
    consumer = db.scalar(select(PointsAccount.consumer_id).where(PointsAccount.kind == "consumer").limit(1))
    before = points.balance_of(db, consumer)
    top = db.scalar(select(func.max(PointsEntry.id)))
    txn = points.earn(db, consumer, 7, "test:after-demo")
    db.flush()
    assert points.balance_of(db, consumer) == before + 7
    assert min(db.scalars(select(PointsEntry.id).where(PointsEntry.transaction_id == txn.id))) > top
    assert points.reconcile(db).clean
