"""A winner's balance order holds a unit of the candidate's SKU; a winner left without a unit gets the deposit back."""

from sqlalchemy import select

from daodian.c2b.presale.models import PresaleVote
from daodian.catalog.models import Sku
from daodian.kit.facts import Fact
from daodian.orders.models import Order, OrderLine
from daodian.payments.models import Refund
from tests.factories import auth, make_shop, make_user
from tests.marketing.presale_helpers import create_presale, end_presale, vote_and_pay


def test_balance_orders_reserve_stock_and_a_sold_out_winner_is_refunded_in_full(
        client, db, session_factory, settings):
    shop = make_shop(db, sku_price_fen=29900, stock=1)
    manager = auth(db, shop.manager)
    sale = create_presale(client, shop.merchant.id, manager, [shop.sku.id], threshold=2, deposit_fen=5000)
    candidate = sale["candidates"][0]["id"]
    first, second = (auth(db, make_user(db, name=f"顾客{i}")) for i in range(2))
    early = vote_and_pay(client, settings, first, sale["id"], candidate, shop.store.id)
    late = vote_and_pay(client, settings, second, sale["id"], candidate, shop.store.id)
    db.expire_all()
    assert db.get(Sku, shop.sku.id).stock == 1  # deposits hold no stock
    end_presale(session_factory, sale["id"])

    closed = client.post(f"/api/v1/merchants/{shop.merchant.id}/presales/{sale['id']}/close", headers=manager)

    assert closed.status_code == 200, closed.text
    assert [(c["paid_votes"], c["outcome"]) for c in closed.json()["candidates"]] == [(2, "won")]
    db.expire_all()
    assert db.get(Sku, shop.sku.id).stock == 0
    served = db.get(PresaleVote, early["id"])
    line = db.scalars(select(OrderLine).where(OrderLine.order_id == served.balance_order_id)).one()
    assert (line.sku_id, line.amount_fen) == (shop.sku.id, 29900 - 5000)
    deposit_line = db.scalars(select(OrderLine).where(OrderLine.order_id == early["deposit_order_id"])).one()
    assert deposit_line.sku_id is None
    # the voter the SKU had no unit left for: no balance order, the whole deposit back
    unserved = db.get(PresaleVote, late["id"])
    assert unserved.balance_order_id is None
    refund = db.get(Refund, unserved.refund_id)
    assert (refund.status, refund.amount_fen, refund.reason) == ("succeeded", 5000, "presale_sold_out")
    deposit = db.get(Order, late["deposit_order_id"])
    assert (deposit.status, deposit.refunded_fen) == ("refunded", 5000)
    fact = db.scalars(select(Fact).where(Fact.kind == "presale.closed")).one()
    assert fact.payload["candidates"][0]["sold_out"] == 1

    # the balance order is an ordinary product order: cancelling it gives its unit back
    cancelled = client.post(f"/api/v1/orders/{served.balance_order_id}/cancel", headers=first)
    assert cancelled.status_code == 200, cancelled.text
    db.expire_all()
    assert db.get(Sku, shop.sku.id).stock == 1
