"""Group buys under real parallel clients against the live server: joins counted exactly, one join per
consumer, and settling concurrently and repeatedly refunds each participant once."""

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from daodian.c2b.group_buy import service as group_buy
from daodian.c2b.group_buy.models import GroupBuyJoin
from daodian.kit.db import unit_of_work
from daodian.orders.models import Order
from daodian.payments.models import Refund
from tests.factories import auth, make_user
from tests.marketing.group_buy_helpers import create_deal, end_deal, join_and_pay
from tests.marketing.helpers import many_consumers
from tests.orders.helpers import LiveShop, in_parallel, post, statuses


def _deal(live: LiveShop) -> dict:
    with live.client() as http:
        return create_deal(http, live.shop.merchant.id, live.manager_auth, live.shop.item.id)


def _joins(live_server, deal_id: int) -> tuple[int, int]:
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        rows = session.scalar(select(func.count()).select_from(GroupBuyJoin).where(GroupBuyJoin.group_buy_id == deal_id))
        people = session.scalar(select(func.count(func.distinct(GroupBuyJoin.consumer_id)))
                                .where(GroupBuyJoin.group_buy_id == deal_id))
        return rows, people


def test_40_consumers_joining_in_parallel_are_40_participants(live_server):
    live = LiveShop(live_server)
    deal = _deal(live)
    with unit_of_work(live_server.session_factory) as session:
        consumers = many_consumers(session, 40)

    responses = in_parallel(40, lambda i: post(f"{live.url}/api/v1/group-buys/{deal['id']}/joins",
                                               headers=consumers[i]))

    assert statuses(responses) == {201: 40}, [r.text for r in responses if r.status_code != 201][:3]
    assert _joins(live_server, deal["id"]) == (40, 40)
    with live.client() as http:
        assert http.get(f"/api/v1/group-buys/{deal['id']}").json()["joined"] == 40


def test_one_consumer_joining_30_times_in_parallel_joins_once(live_server):
    live = LiveShop(live_server)
    deal = _deal(live)

    responses = in_parallel(30, lambda _: post(f"{live.url}/api/v1/group-buys/{deal['id']}/joins",
                                               headers=live.consumer_auth))

    counts = statuses(responses)
    assert counts.get(201) == 1 and counts.get(200) == 29, counts
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert _joins(live_server, deal["id"]) == (1, 1)


def test_settling_from_parallel_workers_refunds_each_participant_exactly_once(live_server):
    live = LiveShop(live_server)
    deal = _deal(live)
    with unit_of_work(live_server.session_factory) as session:
        consumers = many_consumers(session, 5)
    with live.client() as http:
        joins = [join_and_pay(http, live.settings, headers, deal["id"]) for headers in consumers]
    end_deal(live_server.session_factory, deal["id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: group_buy.settle(live_server.session_factory, live.settings, deal["id"]),
                                range(4)))
    again = group_buy.settle(live_server.session_factory, live.settings, deal["id"])

    assert {(r.status, r.participants, r.final_price_fen) for r in results} == {("settled", 5, 7900)}
    assert sum(r.refunds_opened for r in results) == 5 and again.refunds_opened == 0
    order_ids = [j["order_id"] for j in joins]
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        refunds = list(session.scalars(select(Refund).where(Refund.order_id.in_(order_ids))))
        orders = [session.get(Order, i) for i in order_ids]
    assert sorted((r.order_id, r.amount_fen, r.status) for r in refunds) == \
        [(i, 2000, "succeeded") for i in sorted(order_ids)]
    assert {o.refunded_fen for o in orders} == {2000}


def test_parallel_settle_requests_over_http_settle_once(live_server):
    live = LiveShop(live_server)
    deal = _deal(live)
    with unit_of_work(live_server.session_factory) as session:
        consumers = many_consumers(session, 4)
        operator = auth(session, make_user(session, operator=True))
    with live.client() as http:
        for headers in consumers:
            join_and_pay(http, live.settings, headers, deal["id"])
    end_deal(live_server.session_factory, deal["id"])

    responses = in_parallel(6, lambda _: httpx.post(f"{live.url}/api/v1/group-buys/{deal['id']}/settle",
                                                    headers=operator, timeout=60))

    assert statuses(responses) == {200: 6}, [r.text for r in responses]
    assert sum(r.json()["refunds_opened"] for r in responses) == 4  # 9900 -> 7900 for four people, once each
    assert {r.json()["final_price_fen"] for r in responses} == {7900}
