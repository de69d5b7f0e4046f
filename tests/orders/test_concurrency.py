"""Races that cost shops money elsewhere (Saleor #544, Odoo #62767, Medusa #16569), with real parallel
clients against a real server: each client has its own connection and thread, released together."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from daodian.catalog.models import Sku
from daodian.kit.db import unit_of_work
from daodian.orders.models import Order
from daodian.vouchers.models import Verification, Voucher
from tests.factories import auth, make_user
from tests.orders.helpers import (
    LiveShop,
    in_parallel,
    key,
    new_client,
    pickup_body,
    post,
    sandbox_notify,
    service_body,
    statuses,
)
from tests.payments.reconcile import assert_books_balance


def _balanced(live_server, live: LiveShop):
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        return assert_books_balance(session, {live.shop.merchant.id})


def _paid_voucher(live: LiveShop, http: httpx.Client) -> dict:
    me = live.consumer_auth
    order = http.post("/api/v1/orders", json=service_body(live.shop.item), headers={**me, **key()}).json()
    payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers={**me, **key()}).json()
    assert sandbox_notify(http, live.settings, payment).status_code == 200
    return next(v for v in http.get("/api/v1/vouchers", params={"limit": 100}, headers=me).json()["items"]
                if v["order_id"] == order["id"])


def _verify_all(live: LiveShop, code: str, count: int) -> list[httpx.Response]:
    def one(i: int) -> httpx.Response:
        return post(f"{live.url}/api/v1/vouchers/verify", json={"code": code, "store_id": live.shop.store.id},
                          headers={**live.clerk_auth, "X-Terminal-Id": f"pos-{i}"}, timeout=60)
    return in_parallel(count, one)


def test_50_parallel_verifications_of_a_single_use_code_succeed_once(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        voucher = _paid_voucher(live, http)
    responses = _verify_all(live, voucher["code"], 50)
    assert statuses(responses) == {200: 1, 409: 49}, statuses(responses)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"voucher_used_up"}
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert session.get(Voucher, voucher["id"]).uses_left == 0
        assert session.scalar(select(func.count()).select_from(Verification)
                              .where(Verification.voucher_id == voucher["id"])) == 1
    assert _balanced(live_server, live).verifications == 1


def test_a_five_session_card_under_20_parallel_verifications_counts_down_to_zero(live_server):
    live = LiveShop(live_server, sessions=5)
    with live.client() as http:
        voucher = _paid_voucher(live, http)
    responses = _verify_all(live, voucher["code"], 20)
    assert statuses(responses) == {200: 5, 409: 15}, statuses(responses)
    assert sorted(r.json()["uses_left"] for r in responses if r.status_code == 200) == [0, 1, 2, 3, 4]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"voucher_used_up"}
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert session.get(Voucher, voucher["id"]).uses_left == 0
    books = _balanced(live_server, live)
    assert (books.vouchers, books.verifications, books.payments_fen) == (1, 5, 19900)


def test_stock_never_goes_below_zero_under_50_parallel_orders(live_server):
    live = LiveShop(live_server, stock=10)
    with unit_of_work(live_server.session_factory) as session:  # 50 consumers, one order each, at once
        buyers = [auth(session, make_user(session)) for _ in range(50)]

    def one(i: int) -> httpx.Response:
        return post(f"{live.url}/api/v1/orders", json=pickup_body(live.shop.sku, live.shop.store),
                          headers={**buyers[i], **key()}, timeout=60)

    responses = in_parallel(50, one)
    assert statuses(responses) == {201: 10, 409: 40}, statuses(responses)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert session.get(Sku, live.shop.sku.id).stock == 0
        sold = session.scalar(select(func.count()).select_from(Order).where(Order.merchant_id == live.shop.merchant.id))
        assert sold == 10
    _balanced(live_server, live)


CODES = 1000


def _paid_vouchers(live_server, live: LiveShop, count: int) -> list[str]:
    """`count` single-use vouchers of the consumer, bought and paid through the API (100 per order)."""
    me = live.consumer_auth
    with live.client() as http:
        for _ in range(count // 100):
            body = {"lines": [{"service_item_id": live.shop.item.id, "quantity": 50}] * 2}  # one line of 100
            order = http.post("/api/v1/orders", json=body, headers={**me, **key()})
            assert order.status_code == 201, order.text
            payment = http.post(f"/api/v1/orders/{order.json()['id']}/pay", json={"provider": "sandbox"},
                                headers={**me, **key()}).json()
            assert sandbox_notify(http, live.settings, payment).status_code == 200
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        return list(session.scalars(select(Voucher.code).where(Voucher.merchant_id == live.shop.merchant.id)))


def test_1000_codes_each_verified_from_two_terminals_at_once_are_each_consumed_once(live_server):
    """Each code is scanned at two counters at the same moment (a barrier per code), 32 terminals busy at a time."""
    live = LiveShop(live_server)
    codes = _paid_vouchers(live_server, live, CODES)
    assert len(codes) == CODES
    store = live.shop.store.id
    terminals = [{**live.clerk_auth, "X-Terminal-Id": "counter-1"}, {**live.manager_auth, "X-Terminal-Id": "counter-2"}]
    barriers = [threading.Barrier(2) for _ in codes]
    local = threading.local()

    def scan(task: tuple[int, int]) -> tuple[int, int, httpx.Response]:
        i, side = task
        if not hasattr(local, "http"):
            local.http = new_client(live.url)
        barriers[i].wait(timeout=60)
        return i, side, local.http.post("/api/v1/vouchers/verify", json={"code": codes[i], "store_id": store},
                                        headers=terminals[side])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:  # pairs are queued together, so both halves run at once
        results = list(pool.map(scan, [(i, side) for i in range(CODES) for side in (0, 1)]))
    elapsed = time.monotonic() - started

    by_code: dict[int, list[int]] = {}
    for i, _, response in results:
        by_code.setdefault(i, []).append(response.status_code)
    assert all(sorted(s) == [200, 409] for s in by_code.values()), [s for s in by_code.values()
                                                                     if sorted(s) != [200, 409]][:5]
    assert {r.json()["error"]["code"] for _, _, r in results if r.status_code == 409} == {"voucher_used_up"}
    wins = [side for _, side, r in results if r.status_code == 200]
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        left = session.scalar(select(func.sum(Voucher.uses_left)).where(Voucher.merchant_id == live.shop.merchant.id))
        assert left == 0
    books = _balanced(live_server, live)
    assert (books.vouchers, books.verifications, books.paid_orders) == (CODES, CODES, CODES // 100)
    assert books.payments_fen == CODES * 19900
    print(f"\n{2 * CODES} verifications in {elapsed:.1f}s ({2 * CODES / elapsed:.0f}/s); "
          f"terminal 1 won {wins.count(0)}, terminal 2 won {wins.count(1)}")
