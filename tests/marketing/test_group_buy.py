"""Tiered group buys through the API: creating deals, joining, the progress read, and settling."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from daodian.analytics.contract import violations
from daodian.c2b.group_buy import service as group_buy
from daodian.c2b.group_buy.models import GroupBuySettlement
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.orders.models import Order
from daodian.payments.models import Refund
from daodian.vouchers.models import Voucher
from tests.factories import auth, make_shop, make_user
from tests.marketing.group_buy_helpers import create_deal, end_deal, join_and_pay
from tests.orders.helpers import LiveShop, in_parallel, post, sandbox_notify, start_sandbox, statuses


@pytest.fixture
def shop(db):
    return make_shop(db, item_price_fen=12900)


@pytest.fixture
def manager(db, shop):
    return auth(db, shop.manager)


def _consumers(db, count: int) -> list[dict]:
    return [auth(db, make_user(db, name=f"顾客{i}")) for i in range(count)]


def _deal(client, shop, manager, **overrides) -> dict:
    return create_deal(client, shop.merchant.id, manager, shop.item.id, **overrides)


def _refunds(db, order_ids) -> list[Refund]:
    db.expire_all()
    return list(db.scalars(select(Refund).where(Refund.order_id.in_(order_ids)).order_by(Refund.id)))


def test_a_deal_shows_its_tiers_and_how_many_more_the_next_tier_needs(client, db, settings, shop, manager):
    deal = _deal(client, shop, manager)
    assert (deal["status"], deal["participants"], deal["current_price_fen"]) == ("open", 0, None)
    assert deal["next_tier"] == {"min_participants": 2, "price_fen": 9900} and deal["needed_for_next"] == 2
    people = _consumers(db, 3)
    for headers in people:
        join_and_pay(client, settings, headers, deal["id"])
    client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=_consumers(db, 1)[0])  # joined, unpaid
    read = client.get(f"/api/v1/group-buys/{deal['id']}").json()
    assert (read["joined"], read["participants"], read["current_price_fen"]) == (4, 3, 9900)
    assert read["next_tier"]["price_fen"] == 7900 and read["needed_for_next"] == 1
    assert deal["id"] in [d["id"] for d in client.get("/api/v1/group-buys").json()["items"]]


def test_joining_twice_returns_the_same_join_and_order(client, db, shop, manager):
    deal = _deal(client, shop, manager)
    me = _consumers(db, 1)[0]
    first = client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=me)
    again = client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=me)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and first.json()["price_fen"] == 9900
    order = db.get(Order, first.json()["order_id"])
    assert (order.total_fen, order.status, order.kind) == (9900, "created", "service")


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"tiers": [{"min_participants": 2, "price_fen": 9900}, {"min_participants": 2, "price_fen": 7900}]},
     422, "invalid_tiers"),
    ({"tiers": [{"min_participants": 2, "price_fen": 9900}, {"min_participants": 5, "price_fen": 9900}]},
     422, "invalid_tiers"),
    ({"min_participants": 3}, 422, "invalid_tiers"),
    ({"ends_at": "2020-01-01T00:00:00+00:00"}, 422, "invalid_window"),
    ({"ends_at": "2099-01-01T00:00:00"}, 422, "invalid_window"),
    ({"tiers": []}, 422, "validation_error"),
    ({"service_item_id": 999_999}, 404, "service_item_not_found"),
])
def test_a_deal_that_does_not_add_up_is_refused_with_its_code(client, shop, manager, change, status, code):
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/group-buys",
                           json={"service_item_id": shop.item.id, "title": "团", "tiers": [
                               {"min_participants": 2, "price_fen": 9900}],
                               "ends_at": (utcnow() + timedelta(days=1)).isoformat(), **change}, headers=manager)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_another_merchants_item_cannot_be_sold_in_a_deal(client, db, shop, manager):
    other = make_shop(db, name="别家")
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/group-buys",
                           json={"service_item_id": other.item.id, "title": "团",
                                 "tiers": [{"min_participants": 2, "price_fen": 9900}],
                                 "ends_at": (utcnow() + timedelta(days=1)).isoformat()}, headers=manager)
    assert response.status_code == 404 and response.json()["error"]["code"] == "service_item_not_found"


def test_an_ended_deal_takes_no_joins(client, db, session_factory, shop, manager):
    deal = _deal(client, shop, manager)
    end_deal(session_factory, deal["id"])
    late = client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=_consumers(db, 1)[0])
    assert late.status_code == 409 and late.json()["error"]["code"] == "group_buy_closed"
    assert client.post("/api/v1/group-buys/999999/joins", headers=manager).status_code == 404


def test_at_the_close_everyone_pays_the_tier_reached_and_gets_the_difference_back(client, db, session_factory,
                                                                                 settings, shop, manager):
    deal = _deal(client, shop, manager)
    joins = [join_and_pay(client, settings, h, deal["id"]) for h in _consumers(db, 4)]
    unpaid = client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=_consumers(db, 1)[0]).json()
    end_deal(session_factory, deal["id"])

    result = group_buy.settle(session_factory, settings, deal["id"])

    assert (result.status, result.participants, result.final_price_fen, result.refunds_opened) == \
        ("settled", 4, 7900, 4)
    order_ids = [j["order_id"] for j in joins]
    refunds = _refunds(db, order_ids)
    assert [(r.amount_fen, r.status) for r in refunds] == [(2000, "succeeded")] * 4
    orders = [db.get(Order, i) for i in order_ids]
    assert {(o.status, o.paid_fen, o.refunded_fen) for o in orders} == {("voucher_issued", 9900, 2000)}
    assert db.get(Order, unpaid["order_id"]).status == "cancelled"
    settled = db.scalars(select(Fact).where(Fact.kind == "group_buy.settled")).one()
    assert settled.payload["final_price_fen"] == 7900
    assert violations(settled.kind, settled.merchant_id, settled.store_id, settled.consumer_id, settled.payload) == []


def test_a_group_buy_settled_twice_produces_no_second_refund(client, db, session_factory, settings, shop, manager):
    deal = _deal(client, shop, manager)
    joins = [join_and_pay(client, settings, h, deal["id"]) for h in _consumers(db, 6)]
    end_deal(session_factory, deal["id"])
    first = group_buy.settle(session_factory, settings, deal["id"])
    second = group_buy.settle(session_factory, settings, deal["id"])
    job = group_buy.settle_due(session_factory, settings)

    assert (first.final_price_fen, first.refunds_opened, second.refunds_opened, job) == (5900, 6, 0, {})
    assert [r.amount_fen for r in _refunds(db, [j["order_id"] for j in joins])] == [4000] * 6
    assert db.scalar(select(func.count()).select_from(GroupBuySettlement)) >= 6
    assert len(db.scalars(select(Fact).where(Fact.kind == "group_buy.settled")).all()) == 1


def test_below_the_minimum_everyone_is_refunded_in_full_and_the_vouchers_are_voided(client, db, session_factory,
                                                                                   settings, shop, manager):
    deal = _deal(client, shop, manager)
    joined = join_and_pay(client, settings, _consumers(db, 1)[0], deal["id"])
    end_deal(session_factory, deal["id"])
    assert client.post(f"/api/v1/group-buys/{deal['id']}/settle", headers=manager).status_code == 403

    response = client.post(f"/api/v1/group-buys/{deal['id']}/settle", headers=auth(db, make_user(db, operator=True)))

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["final_price_fen"]) == ("failed", None)
    assert [(r.amount_fen, r.status) for r in _refunds(db, [joined["order_id"]])] == [(9900, "succeeded")]
    order = db.get(Order, joined["order_id"])
    assert (order.status, order.refunded_fen) == ("refunded", 9900)
    voucher = db.scalars(select(Voucher).where(Voucher.order_id == order.id)).one()
    assert (voucher.uses_left, voucher.refunded_uses) == (0, voucher.uses_total)


def test_a_running_deal_cannot_be_settled(client, db, shop, manager):
    deal = _deal(client, shop, manager)
    response = client.post(f"/api/v1/group-buys/{deal['id']}/settle", headers=auth(db, make_user(db, operator=True)))
    assert response.status_code == 409 and response.json()["error"]["code"] == "group_buy_running"


def test_the_demo_seeds_a_running_deal_with_paid_participants(client, db, shop):
    from daodian.demo.live import group_buy as group_buy_demo  # noqa: PLC0415

    deal = group_buy_demo.seed(db, shop.merchant.id, utcnow())
    read = client.get(f"/api/v1/group-buys/{deal.id}").json()
    assert (read["status"], read["participants"], read["needed_for_next"]) == ("open", 7, 3)


def test_a_consumer_whose_unpaid_join_lapsed_can_join_again_with_a_new_order(client, db, settings, shop, manager):
    deal = _deal(client, shop, manager)
    me, late = _consumers(db, 2)
    first = client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=me).json()
    assert client.post(f"/api/v1/orders/{first['order_id']}/cancel", headers=me).status_code == 200
    overdue = client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=late).json()
    db.get(Order, overdue["order_id"]).expires_at = utcnow() - timedelta(seconds=1)  # lapsed, not yet swept
    db.commit()

    again = client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=me)
    late_again = client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=late)

    assert (again.status_code, late_again.status_code) == (201, 201)
    assert again.json()["id"] == first["id"] and again.json()["order_id"] != first["order_id"]
    assert late_again.json()["id"] == overdue["id"] and late_again.json()["order_id"] != overdue["order_id"]
    db.expire_all()
    assert db.get(Order, overdue["order_id"]).status == "expired"
    assert db.get(Order, again.json()["order_id"]).status == "created"
    assert client.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=me).json() == again.json()  # a retry
    payment = start_sandbox(client, me, again.json()["order_id"])
    assert sandbox_notify(client, settings, payment).status_code == 200
    read = client.get(f"/api/v1/group-buys/{deal['id']}").json()
    assert (read["joined"], read["participants"]) == (2, 1)


def test_parallel_rejoins_after_a_lapsed_join_give_one_new_order(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        deal = create_deal(http, live.shop.merchant.id, live.manager_auth, live.shop.item.id)
        first = http.post(f"/api/v1/group-buys/{deal['id']}/joins", headers=live.consumer_auth).json()
        assert http.post(f"/api/v1/orders/{first['order_id']}/cancel", headers=live.consumer_auth).status_code == 200

    responses = in_parallel(20, lambda _: post(f"{live.url}/api/v1/group-buys/{deal['id']}/joins",
                                               headers=live.consumer_auth))

    counts = statuses(responses)
    assert counts.get(201) == 1 and counts.get(200) == 19, (counts, [r.text for r in responses][:2])
    new_order_ids = {r.json()["order_id"] for r in responses}
    assert len(new_order_ids) == 1 and first["order_id"] not in new_order_ids
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        orders_made = session.scalar(select(func.count()).select_from(Order)
                                     .where(Order.note == f"group buy {deal['id']}"))
    assert orders_made == 2  # the cancelled one and the single new one: losers' orders rolled back
