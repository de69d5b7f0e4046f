"""The points ledger: double entry, append-only in the database, balances that never go negative and
always equal their ledger sums."""

import random
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from daodian import cli
from daodian.kit.clock import utcnow
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.facts import Fact
from daodian.loyalty import cli as loyalty_cli
from daodian.loyalty import points
from daodian.loyalty.errors import InsufficientPoints
from daodian.loyalty.models import AccountKind, PointsAccount, PointsEntry, PointsTransaction
from tests.factories import auth, make_shop, make_user
from tests.marketing.helpers import status_counts
from tests.orders.helpers import in_parallel
from tests.support.databases import drop_database, prepare_database


def test_earn_spend_reverse_move_points_between_accounts_and_add_up_to_zero(db):
    shop, user = make_shop(db), make_user(db)
    earned = points.earn(db, user.id, 500, "order:1", merchant_id=shop.merchant.id)
    assert points.earn(db, user.id, 500, "order:1", merchant_id=shop.merchant.id).id == earned.id  # once
    spent = points.spend(db, user.id, 200, "checkout:7")
    assert points.balance_of(db, user.id) == 300
    with pytest.raises(InsufficientPoints):
        points.spend(db, user.id, 301, "checkout:8")
    points.reverse(db, spent.id)  # the order paid with points was refunded: the 200 come back
    assert points.reverse(db, spent.id).reverses_id == spent.id  # once
    assert points.balance_of(db, user.id) == 500
    issuer = db.scalar(select(PointsAccount.balance).where(PointsAccount.kind == AccountKind.ISSUED,
                                                           PointsAccount.owner_key == f"merchant:{shop.merchant.id}"))
    assert issuer == -500
    assert points.reconcile(db).clean
    facts = list(db.scalars(select(Fact).where(Fact.kind == "points.entry")))
    assert len(facts) == 6 and sum(f.payload["delta_points"] for f in facts) == 0
    assert {f.payload["account"] for f in facts} == {"consumer", "issued", "redeemed"}


def test_taking_back_earned_points_stops_at_what_is_left(db):
    user = make_user(db)
    earned = points.earn(db, user.id, 100, "order:2")
    points.spend(db, user.id, 70, "checkout:2")
    back = points.reverse(db, earned.id)
    assert back.points == 30 and points.balance_of(db, user.id) == 0
    assert points.reconcile(db).clean


def test_points_expire_first_in_first_out_and_only_once(db):
    user, now = make_user(db), utcnow()
    points.earn(db, user.id, 100, "order:old", expires_at=now - timedelta(days=1))
    points.earn(db, user.id, 50, "order:new", expires_at=now + timedelta(days=300))
    points.spend(db, user.id, 30, "checkout:1")  # spends the oldest points first: 70 of the 100 are left to lapse
    assert points.expire(db, user.id, now).points == 70
    assert points.expire(db, user.id, now) is None
    assert points.balance_of(db, user.id) == 50
    assert points.expire_all(db, now + timedelta(days=301)) == 1 and points.balance_of(db, user.id) == 0
    assert points.reconcile(db).clean


def test_the_database_refuses_to_change_or_delete_ledger_rows(db, connection):
    user = make_user(db)
    txn = points.earn(db, user.id, 10, "order:3")
    for statement in (update(PointsEntry).where(PointsEntry.transaction_id == txn.id).values(delta=1000),
                      text("DELETE FROM points_entries"),
                      update(PointsTransaction).where(PointsTransaction.id == txn.id).values(points=1000),
                      text("DELETE FROM points_transactions")):
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(statement)
        savepoint.rollback()


def test_reconcile_reports_a_tampered_cache_and_the_cli_fails_on_it(db, session_factory, monkeypatch):
    monkeypatch.setattr(loyalty_cli, "_factory", lambda: session_factory)
    user = make_user(db)
    points.earn(db, user.id, 40, "order:cli")
    db.flush()
    runner = CliRunner()
    clean = runner.invoke(cli.app, ["points", "reconcile"])
    assert clean.exit_code == 0 and "0 differences, ledger total 0" in clean.output, clean.output
    db.execute(update(PointsAccount).where(PointsAccount.owner_key == f"user:{user.id}").values(balance=41))
    db.flush()
    dirty = runner.invoke(cli.app, ["points", "reconcile"])
    assert dirty.exit_code == 1 and "cached 41, ledger 40, difference 1" in dirty.output, dirty.output


@pytest.fixture(scope="module")
def ledger_factory(backend, tmp_path_factory):
    """A database of its own whose transactions really commit, one per operation as in production (10,000
    savepoints inside one rolled-back test transaction would measure PostgreSQL's subtransaction cache)."""
    settings = prepare_database(backend, "daodian_test_ledger", tmp_path_factory.mktemp("ledger"))
    engine = create_db_engine(settings)
    yield make_session_factory(engine)
    engine.dispose()
    drop_database(settings)


def test_10000_random_operations_keep_every_cache_equal_to_its_ledger_and_the_total_zero(ledger_factory):
    """Property: whatever sequence of earn / spend / refund (reverse) / expire happens, every cached
    balance equals its ledger sum, consumer balances are never negative, and the ledger sums to zero."""
    rng, now = random.Random(20261122), utcnow()
    with unit_of_work(ledger_factory) as session:
        merchant_id = make_shop(session).merchant.id
        consumers = [make_user(session).id for _ in range(25)]
    reversible: list[int] = []
    for step in range(10_000):
        consumer, roll = rng.choice(consumers), rng.random()
        try:
            with unit_of_work(ledger_factory) as session:
                if roll < 0.4:
                    when = now + timedelta(days=rng.randint(-30, 30))
                    reversible.append(points.earn(session, consumer, rng.randint(1, 500), f"e:{step}", expires_at=when,
                                                  merchant_id=rng.choice([merchant_id, None])).id)
                elif roll < 0.75:
                    reversible.append(points.spend(session, consumer, rng.randint(1, 400), f"s:{step}").id)
                elif roll < 0.9 and reversible:
                    points.reverse(session, reversible.pop(rng.randrange(len(reversible))))
                else:
                    points.expire(session, consumer, now + timedelta(days=rng.randint(-30, 30)))
        except InsufficientPoints:
            pass  # the whole operation rolled back
    with unit_of_work(ledger_factory, read_only=True) as session:
        result = points.reconcile(session)
        assert result.clean, (result.differences[:5], result.ledger_total, result.unbalanced_transactions[:5])
        lowest = session.scalar(select(func.min(PointsAccount.balance)).where(PointsAccount.kind == AccountKind.CONSUMER))
        assert lowest >= 0
        assert session.scalar(select(func.count()).select_from(PointsTransaction)) > 5_000


def test_100_concurrent_spends_never_overdraw(live_server):
    with unit_of_work(live_server.session_factory) as session:
        user = make_user(session)
        headers = auth(session, user)
        points.earn(session, user.id, 1_000, f"order:live-{user.id}")

    def one(i: int) -> httpx.Response:
        return httpx.post(f"{live_server.url}/api/v1/me/points/spends", json={"points": 30, "reference": f"c-{i}"},
                          headers=headers, timeout=120)

    responses = in_parallel(100, one)
    assert status_counts(responses) == {201: 33, 409: 67}, status_counts(responses)  # 33 x 30 = 990 <= 1000
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"insufficient_points"}
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert points.balance_of(session, user.id) == 10
        assert points.reconcile(session).clean


def test_a_spend_retried_with_its_reference_spends_once(client, db):
    user = make_user(db)
    headers = auth(db, user)
    points.earn(db, user.id, 100, "order:9")
    first = client.post("/api/v1/me/points/spends", json={"points": 60, "reference": "cart-1"}, headers=headers)
    retry = client.post("/api/v1/me/points/spends", json={"points": 60, "reference": "cart-1"}, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 200) and first.json()["id"] == retry.json()["id"]
    other = client.post("/api/v1/me/points/spends", json={"points": 10, "reference": "cart-1"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "points_reference_reused"
    assert client.get("/api/v1/me/points", headers=headers).json() == {"consumer_id": user.id, "balance": 40}
    kinds = [t["kind"] for t in client.get("/api/v1/me/points/transactions", headers=headers).json()["items"]]
    assert kinds == ["earn", "spend"]
