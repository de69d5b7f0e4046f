"""Paying and refunding under real parallel clients against a real server (Odoo #222372: a retried
confirm credited twice)."""

import httpx
from sqlalchemy import func, select

from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.payments.models import Payment, Refund, RefundStatus
from tests.orders.helpers import LiveShop, in_parallel, key, pickup_body, sandbox_notify, service_body, statuses


def _payments(live_server, order_id: int) -> list[Payment]:
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        return list(session.scalars(select(Payment).where(Payment.order_id == order_id)))


def _order(live: LiveShop, http: httpx.Client, body: dict) -> dict:
    return http.post("/api/v1/orders", json=body, headers={**live.consumer_auth, **key()}).json()


def test_20_parallel_pays_with_one_key_make_one_payment(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, service_body(live.shop.item))
    idem = key()

    def one(_: int) -> httpx.Response:
        return httpx.post(f"{live.url}/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                          headers={**live.consumer_auth, **idem}, timeout=60)

    responses = in_parallel(20, one)
    counts = statuses(responses)
    assert set(counts) <= {201, 409} and counts.get(201, 0) >= 1, counts
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} <= {"idempotency_in_progress"}
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1  # replays of one response
    assert len(_payments(live_server, order["id"])) == 1


def test_parallel_pays_with_different_keys_make_one_payment(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, service_body(live.shop.item))

    def one(_: int) -> httpx.Response:
        return httpx.post(f"{live.url}/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                          headers={**live.consumer_auth, **key()}, timeout=60)

    responses = in_parallel(20, one)
    assert statuses(responses) == {201: 1, 200: 19}, statuses(responses)
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(_payments(live_server, order["id"])) == 1


def test_parallel_offline_payments_with_different_keys_take_the_money_once(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, pickup_body(live.shop.sku, live.shop.store))
    body = {"provider": "offline", "store_id": live.shop.store.id, "method": "cash"}

    def one(_: int) -> httpx.Response:
        return httpx.post(f"{live.url}/api/v1/orders/{order['id']}/pay", json=body,
                          headers={**live.clerk_auth, **key()}, timeout=60)

    responses = in_parallel(20, one)
    assert statuses(responses) == {201: 1, 409: 19}, statuses(responses)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"order_not_payable"}
    assert [p.status for p in _payments(live_server, order["id"])] == ["succeeded"]


def test_parallel_notifications_pay_once(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, service_body(live.shop.item))
        payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                            headers={**live.consumer_auth, **key()}).json()

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=live.url, timeout=60) as client:
            return sandbox_notify(client, live.settings, payment)  # 20 distinct notify ids for one payment

    responses = in_parallel(20, one)
    assert statuses(responses) == {200: 20}, [r.text for r in responses if r.status_code != 200][:3]
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        paid = session.scalars(select(Fact).where(Fact.kind == "order.paid")).all()
        assert [f.payload["order_id"] for f in paid].count(order["id"]) == 1
        issued = session.scalars(select(Fact).where(Fact.kind == "voucher.issued")).all()
        assert [f.payload["order_id"] for f in issued].count(order["id"]) == 1


def test_parallel_partial_refunds_never_exceed_what_was_paid(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, pickup_body(live.shop.sku, live.shop.store))  # 299.00
        payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                            headers={**live.consumer_auth, **key()}).json()
        assert sandbox_notify(http, live.settings, payment).status_code == 200

    def one(_: int) -> httpx.Response:
        return httpx.post(f"{live.url}/api/v1/orders/{order['id']}/refunds", json={"amount_fen": 9000},
                          headers={**live.consumer_auth, **key()}, timeout=60)

    responses = in_parallel(10, one)
    assert statuses(responses) == {201: 3, 422: 7}, statuses(responses)  # 3 x 90.00 fit into 299.00
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        refunded = session.scalar(select(func.sum(Refund.amount_fen)).where(
            Refund.order_id == order["id"], Refund.status == RefundStatus.SUCCEEDED))
        assert refunded == 27000
