"""Races that cost shops money elsewhere (Saleor #544, Odoo #62767, Medusa #16569), with real parallel
clients against a real server: each client has its own connection and thread, released together."""

import httpx
from sqlalchemy import func, select

from daodian.catalog.models import Sku
from daodian.kit.db import unit_of_work
from daodian.orders.models import Order, Verification, Voucher
from tests.factories import auth, make_user
from tests.orders.helpers import LiveShop, in_parallel, key, pickup_body, sandbox_notify, service_body, statuses


def _paid_voucher(live: LiveShop, http: httpx.Client) -> dict:
    me = live.consumer_auth
    order = http.post("/api/v1/orders", json=service_body(live.shop.item), headers={**me, **key()}).json()
    payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers={**me, **key()}).json()
    assert sandbox_notify(http, live.settings, payment).status_code == 200
    return next(v for v in http.get("/api/v1/vouchers", params={"limit": 100}, headers=me).json()["items"]
                if v["order_id"] == order["id"])


def _verify_all(live: LiveShop, code: str, count: int) -> list[httpx.Response]:
    def one(i: int) -> httpx.Response:
        return httpx.post(f"{live.url}/api/v1/vouchers/verify", json={"code": code, "store_id": live.shop.store.id},
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


def test_a_five_session_card_under_20_parallel_verifications_counts_down_to_zero(live_server):
    live = LiveShop(live_server, sessions=5)
    with live.client() as http:
        voucher = _paid_voucher(live, http)
    responses = _verify_all(live, voucher["code"], 20)
    assert statuses(responses) == {200: 5, 409: 15}, statuses(responses)
    assert sorted(r.json()["uses_left"] for r in responses if r.status_code == 200) == [0, 1, 2, 3, 4]
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert session.get(Voucher, voucher["id"]).uses_left == 0


def test_stock_never_goes_below_zero_under_50_parallel_orders(live_server):
    live = LiveShop(live_server, stock=10)
    with unit_of_work(live_server.session_factory) as session:  # 50 consumers, one order each, at once
        buyers = [auth(session, make_user(session)) for _ in range(50)]

    def one(i: int) -> httpx.Response:
        return httpx.post(f"{live.url}/api/v1/orders", json=pickup_body(live.shop.sku, live.shop.store),
                          headers={**buyers[i], **key()}, timeout=60)

    responses = in_parallel(50, one)
    assert statuses(responses) == {201: 10, 409: 40}, statuses(responses)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert session.get(Sku, live.shop.sku.id).stock == 0
        sold = session.scalar(select(func.count()).select_from(Order).where(Order.merchant_id == live.shop.merchant.id))
        assert sold == 10
