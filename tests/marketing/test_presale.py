"""Pre-sale by vote through the API: creating, voting with a paid deposit, closing into balances or refunds."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from daodian.analytics.contract import violations
from daodian.c2b.presale import close as presale_close
from daodian.c2b.presale.models import PresaleVote
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from daodian.orders.models import Order
from daodian.payments.models import Refund
from tests.factories import auth, make_product, make_shop, make_user, sku_of
from tests.marketing.presale_helpers import create_presale, end_presale, presale_body, vote, vote_and_pay


@pytest.fixture
def shop(db):
    shop = make_shop(db, sku_price_fen=29900)
    shop.other_sku = sku_of(db, make_product(db, shop.merchant, name="轮胎 205/55R16", price_fen=49900))
    return shop


@pytest.fixture
def manager(db, shop):
    return auth(db, shop.manager)


def _consumers(db, count: int) -> list[dict]:
    return [auth(db, make_user(db, name=f"顾客{i}")) for i in range(count)]


def _presale(client, shop, manager, **overrides) -> dict:
    return create_presale(client, shop.merchant.id, manager, [shop.sku.id, shop.other_sku.id], **overrides)


def test_creating_checks_deposit_threshold_closing_time_and_ownership(client, db, shop, manager):
    url = f"/api/v1/merchants/{shop.merchant.id}/presales"
    for body, code in [
        (presale_body([shop.sku.id], deposit_fen=29900), "invalid_presale"),
        (presale_body([shop.sku.id], threshold=0), "invalid_presale"),
        (presale_body([shop.sku.id], closes_at=(utcnow() - timedelta(hours=1)).isoformat()), "invalid_presale"),
    ]:
        response = client.post(url, json=body, headers=manager)
        assert (response.status_code, response.json()["error"]["code"]) == (422, code), response.text
    foreign = make_shop(db, name="别家车行")
    response = client.post(url, json=presale_body([foreign.sku.id]), headers=manager)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_line_item")
    consumer = _consumers(db, 1)[0]
    assert client.post(url, json=presale_body([shop.sku.id]), headers=consumer).status_code == 403
    assert client.post(url, json=presale_body([shop.sku.id])).status_code == 401
    made = _presale(client, shop, manager)
    assert [c["price_fen"] for c in made["candidates"]] == [29900, 49900]
    assert made["id"] in [p["id"] for p in client.get("/api/v1/presales").json()["items"]]
    assert made["id"] in [p["id"] for p in client.get(url, headers=manager).json()["items"]]


def test_only_paid_deposits_count_and_one_consumer_votes_once_per_candidate(client, db, settings, shop, manager):
    sale = _presale(client, shop, manager)
    first = sale["candidates"][0]["id"]
    people = _consumers(db, 3)
    vote_and_pay(client, settings, people[0], sale["id"], first, shop.store.id)
    vote(client, people[1], sale["id"], first, shop.store.id)  # not paid yet
    again = vote(client, people[0], sale["id"], first, shop.store.id)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "presale_already_voted")
    read = client.get(f"/api/v1/presales/{sale['id']}").json()
    assert [c["paid_votes"] for c in read["candidates"]] == [1, 0]
    wrong = client.post(f"/api/v1/presales/{sale['id']}/candidates/999999/votes",
                        json={"fulfilment": "pickup", "store_id": shop.store.id}, headers={**people[2], "Idempotency-Key": "x1"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (404, "presale_candidate_not_found")
    assert vote(client, {}, sale["id"], first, shop.store.id).status_code == 401


def test_at_close_winners_get_balance_orders_losers_full_refunds_unpaid_deposits_close(
        client, db, session_factory, settings, shop, manager):
    sale = _presale(client, shop, manager, threshold=2)
    winner, loser = (c["id"] for c in sale["candidates"])
    people = _consumers(db, 4)
    won = [vote_and_pay(client, settings, h, sale["id"], winner, shop.store.id) for h in people[:2]]
    lost = vote_and_pay(client, settings, people[2], sale["id"], loser, shop.store.id)
    unpaid = vote(client, people[3], sale["id"], loser, shop.store.id).json()
    end_presale(session_factory, sale["id"])

    assert presale_close.close_due(session_factory, settings) == {"closed": 1, "skipped": 0}

    db.expire_all()
    read = client.get(f"/api/v1/presales/{sale['id']}").json()
    assert read["status"] == "closed"
    assert [(c["paid_votes"], c["outcome"]) for c in read["candidates"]] == [(2, "won"), (1, "lost")]
    for ballot in won:
        row = db.get(PresaleVote, ballot["id"])
        balance = db.get(Order, row.balance_order_id)
        assert (balance.status, balance.total_fen, balance.store_id) == ("created", 29900 - 5000, shop.store.id)
        assert balance.consumer_id == db.get(Order, ballot["deposit_order_id"]).consumer_id
    deposit = db.get(Order, lost["deposit_order_id"])
    refunds = list(db.scalars(select(Refund).where(Refund.order_id == deposit.id)))
    assert [(r.status, r.amount_fen) for r in refunds] == [("succeeded", 5000)]
    assert (deposit.status, deposit.refunded_fen) == ("refunded", 5000)
    assert db.get(Order, unpaid["deposit_order_id"]).status in ("cancelled", "expired")
    for fact in db.scalars(select(Fact).where(Fact.kind.in_(["presale.voted", "presale.closed"]))):
        assert violations(fact.kind, fact.merchant_id, fact.store_id, fact.consumer_id, fact.payload) == []


def test_closing_twice_opens_no_second_refund_or_balance_order(client, db, session_factory, settings, shop, manager):
    sale = _presale(client, shop, manager, threshold=1)
    people = _consumers(db, 2)
    vote_and_pay(client, settings, people[0], sale["id"], sale["candidates"][0]["id"], shop.store.id)
    end_presale(session_factory, sale["id"])
    url = f"/api/v1/merchants/{shop.merchant.id}/presales/{sale['id']}/close"
    first = client.post(url, headers=manager)
    again = client.post(url, headers=manager)
    assert (first.status_code, again.status_code) == (200, 200)
    assert presale_close.close(session_factory, settings, sale["id"]) is False
    db.expire_all()
    balances = db.scalar(select(func.count()).select_from(PresaleVote).where(PresaleVote.balance_order_id.is_not(None)))
    assert balances == 1
    assert db.scalar(select(func.count()).select_from(Fact).where(Fact.kind == "presale.closed")) == 1


def test_a_merchant_cannot_close_early_nor_another_merchant_at_all(client, db, shop, manager):
    sale = _presale(client, shop, manager)
    early = client.post(f"/api/v1/merchants/{shop.merchant.id}/presales/{sale['id']}/close", headers=manager)
    assert (early.status_code, early.json()["error"]["code"]) == (409, "presale_not_due")
    other = make_shop(db, name="别家车行")
    foreign = client.post(f"/api/v1/merchants/{other.merchant.id}/presales/{sale['id']}/close",
                          headers=auth(db, other.manager))
    assert foreign.status_code == 404
    assert client.post(f"/api/v1/merchants/{shop.merchant.id}/presales/{sale['id']}/close",
                       headers=auth(db, other.manager)).status_code == 403
