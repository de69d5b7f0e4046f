"""The demo city's 90 days of history keep the domains' invariants, and the miner finds what was planted."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from daodian.bookings.models import Booking, BookingSlot
from daodian.catalog.models import Sku
from daodian.demo.generate import build_demo_city
from daodian.demo.history.planted import planted_pairs
from daodian.kit import codes
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.facts import Fact
from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.merchants.models import Store
from daodian.mining.service import mine, precision_recall
from daodian.orders.models import Order, OrderLine
from daodian.payments.models import Payment, Refund
from daodian.records.models import ConsumptionLine, ConsumptionRecord, Review
from daodian.vouchers.models import Verification, Voucher
from tests.support.databases import prepare_database

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
CITY = dict(stores=300, consumers=1500, seed=11, now=NOW)


@pytest.fixture(scope="module")
def loaded(backend, tmp_path_factory):
    """One city with history and the same city without, each in a database of its own."""
    out = {}
    for days in (90, 0):
        settings = prepare_database(backend, f"daodian_test_history_{days}", tmp_path_factory.mktemp(f"h{days}"))
        engine = create_db_engine(settings)
        with unit_of_work(make_session_factory(engine)) as session:
            result = build_demo_city(session, **CITY, history_days=days)
        out[days] = (make_session_factory(engine), result)
    yield out
    for factory, _ in out.values():
        factory.kw["bind"].dispose()


@pytest.fixture
def db90(loaded):
    with loaded[90][0]() as session:
        yield session


def scalar(db, stmt):
    return db.scalar(stmt)


def test_history_has_every_kind_of_row_within_90_days(db90, loaded):
    counts = loaded[90][1].counts
    for table in ("orders", "payments", "refunds", "vouchers", "verifications", "consumption_records", "reviews",
                  "booking_slots", "bookings", "facts"):
        assert counts[table] > 0, table
    assert loaded[0][1].counts.get("orders", 0) == 0
    first, last = db90.execute(select(func.min(Order.created_at), func.max(Order.created_at))).one()
    assert NOW - timedelta(days=95) <= first and last <= NOW
    assert scalar(db90, select(func.max(Verification.verified_at))) <= NOW


def test_money_reconciles(db90):
    paid = scalar(db90, select(func.sum(Order.paid_fen)))
    refunded = scalar(db90, select(func.sum(Order.refunded_fen)))
    taken = scalar(db90, select(func.sum(Payment.amount_fen)).where(Payment.status == "succeeded"))
    given_back = scalar(db90, select(func.sum(Refund.amount_fen)).where(Refund.status == "succeeded"))
    assert taken == paid and given_back == refunded == scalar(db90, select(func.sum(Payment.refunded_fen)))
    lines = dict(db90.execute(select(OrderLine.order_id, func.sum(OrderLine.amount_fen)).group_by(OrderLine.order_id)).all())
    for order in db90.scalars(select(Order)):
        assert order.total_fen == lines[order.id]
        assert (order.paid_at is None) == (order.status in ("cancelled", "expired")) == (order.paid_fen == 0)
        assert (order.status == "refunded") == (order.refunded_fen == order.paid_fen > 0)


def test_vouchers_are_used_exactly_as_verified(db90):
    used = Counter(db90.scalars(select(Verification.voucher_id).where(Verification.reversed_at.is_(None))))
    for voucher in db90.scalars(select(Voucher)):
        assert used[voucher.id] + voucher.uses_left + voucher.refunded_uses == voucher.uses_total
        assert codes.is_valid(voucher.code)
        order = db90.get(Order, voucher.order_id)
        assert order.status == ("completed" if voucher.uses_left == 0 else "voucher_issued")
    store_merchant = dict(db90.execute(select(Store.id, Store.merchant_id)).all())
    for check in db90.scalars(select(Verification)):
        voucher = db90.get(Voucher, check.voucher_id)
        assert store_merchant[check.store_id] == check.merchant_id == voucher.merchant_id
        assert check.verified_at <= voucher.expires_at


def test_bookings_stay_within_capacity(db90):
    held = Counter(db90.scalars(select(Booking.slot_id).where(Booking.status != "cancelled")))
    for slot in db90.scalars(select(BookingSlot)):
        assert slot.booked == held[slot.id] <= slot.capacity
    assert scalar(db90, select(func.count()).select_from(Booking).where(
        Booking.status == "booked", Booking.created_at > NOW)) == 0


def test_store_ratings_fold_in_the_reviews(db90, loaded):
    """Same seed without history gives the priors; each store's sum of ratings grows by its reviews'."""
    with loaded[0][0]() as db0:
        before = {s.id: (s.rating_avg, s.rating_count) for s in db0.scalars(select(Store))}
    reviews = db90.execute(select(Review.store_id, func.count(), func.sum(Review.rating_experience))
                           .group_by(Review.store_id)).all()
    assert reviews
    by_store = {store: (n, total) for store, n, total in reviews}
    for store in db90.scalars(select(Store)):
        n, total = by_store.get(store.id, (0, 0))
        avg0, count0 = before[store.id]
        assert store.rating_count == count0 + n
        assert store.rating_avg * store.rating_count == pytest.approx(avg0 * count0 + total)
    # One review per visit, by the visitor.
    for review in db90.scalars(select(Review)):
        if review.record_id is not None:
            assert db90.get(ConsumptionRecord, review.record_id).consumer_id == review.consumer_id
        else:
            voucher = db90.get(Voucher, db90.get(Verification, review.verification_id).voucher_id)
            assert voucher.consumer_id == review.consumer_id


def test_every_change_has_its_fact(db90):
    kinds = Counter(db90.scalars(select(Fact.kind)))
    count = lambda model, *where: scalar(db90, select(func.count()).select_from(model).where(*where))  # noqa: E731
    assert kinds["order.created"] == count(Order)
    assert kinds["payment.succeeded"] == kinds["order.paid"] == count(Payment)
    assert kinds["voucher.issued"] == count(Voucher)
    assert kinds["voucher.verified"] == count(Verification)
    assert kinds["consumption.recorded"] == count(ConsumptionRecord)
    assert kinds["review.created"] == count(Review)
    assert kinds["order.refunded"] == count(Refund)
    assert kinds["booking.created"] == count(Booking)
    times = list(db90.scalars(select(Fact.occurred_at).order_by(Fact.id)))
    assert times == sorted(times) and times[-1] <= NOW


def test_stock_and_pos_lines_are_sound(db90):
    assert scalar(db90, select(func.min(Sku.stock))) >= 0
    lines = db90.execute(select(ConsumptionLine.record_id, func.sum(ConsumptionLine.amount_fen))
                         .group_by(ConsumptionLine.record_id)).all()
    totals = dict(db90.execute(select(ConsumptionRecord.id, ConsumptionRecord.total_fen)).all())
    assert all(totals[record] == amount for record, amount in lines) and len(lines) == len(totals)


def test_mining_finds_the_planted_links(loaded):
    factory, _ = loaded[90]
    with factory() as session:
        run = mine(session)
        precision, recall = precision_recall(run.pairs, planted_pairs())
        assert precision >= 0.9 and recall >= 0.9, (run.rules, precision, recall)
        mined = session.scalars(select(CategoryLink).where(CategoryLink.source == LinkSource.MINED)).all()
        assert mined and {link.status for link in mined} == {LinkStatus.CANDIDATE}
        session.rollback()
    with loaded[0][0]() as session:  # the city without history has nothing to mine
        assert mine(session).rules.empty
        session.rollback()
