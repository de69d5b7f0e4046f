"""Paying and refunding under real parallel clients against a real server (Odoo #222372: a retried
confirm credited twice)."""

import time

import httpx
from sqlalchemy import func, select

from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.payments.models import Payment, Refund, RefundStatus
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


def _payments(live_server, order_id: int) -> list[Payment]:
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        return list(session.scalars(select(Payment).where(Payment.order_id == order_id)))


def _order(live: LiveShop, http: httpx.Client, body: dict) -> dict:
    return http.post("/api/v1/orders", json=body, headers={**live.consumer_auth, **key()}).json()


def test_100_parallel_pays_with_one_key_make_one_payment_and_identical_responses(live_server):
    """100 clients send the same pay with the same key at once. Those that meet it in flight get 409
    `idempotency_in_progress` and retry as a client should; in the end all 100 hold the same response."""
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, service_body(live.shop.item))
    idem = key()
    first_answers: list[int] = []

    def one(_: int) -> httpx.Response:
        with new_client(live.url) as client:
            for attempt in range(200):
                response = client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                                       headers={**live.consumer_auth, **idem})
                if attempt == 0:
                    first_answers.append(response.status_code)
                if response.status_code != 409:
                    return response
                assert response.json()["error"]["code"] == "idempotency_in_progress"
                time.sleep(0.02)
            return response

    responses = in_parallel(100, one)
    assert statuses(responses) == {201: 100}, statuses(responses)
    assert len({r.content for r in responses}) == 1  # byte for byte the same response
    assert sum(r.headers.get("Idempotent-Replayed") != "true" for r in responses) == 1  # one ran, 99 replayed
    assert set(first_answers) <= {201, 409}
    [payment] = _payments(live_server, order["id"])
    assert payment.id == responses[0].json()["id"]
    assert sandbox_notify(new_client(live.url), live.settings, responses[0].json()).status_code == 200
    books = _balanced(live_server, live)
    assert (books.paid_orders, books.payments_fen, books.vouchers) == (1, 19900, 1)


def test_parallel_pays_with_different_keys_make_one_payment(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, service_body(live.shop.item))

    def one(_: int) -> httpx.Response:
        return post(f"{live.url}/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                          headers={**live.consumer_auth, **key()}, timeout=60)

    responses = in_parallel(20, one)
    assert statuses(responses) == {201: 1, 200: 19}, statuses(responses)
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(_payments(live_server, order["id"])) == 1
    _balanced(live_server, live)


def test_parallel_offline_payments_with_different_keys_take_the_money_once(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, pickup_body(live.shop.sku, live.shop.store))
    body = {"provider": "offline", "store_id": live.shop.store.id, "method": "cash"}

    def one(_: int) -> httpx.Response:
        return post(f"{live.url}/api/v1/orders/{order['id']}/pay", json=body,
                          headers={**live.clerk_auth, **key()}, timeout=60)

    responses = in_parallel(20, one)
    assert statuses(responses) == {201: 1, 409: 19}, statuses(responses)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"order_not_payable"}
    assert [p.status for p in _payments(live_server, order["id"])] == ["succeeded"]
    assert _balanced(live_server, live).payments_fen == 29900


def test_parallel_notifications_pay_once(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, service_body(live.shop.item))
        payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                            headers={**live.consumer_auth, **key()}).json()

    def one(_: int) -> httpx.Response:
        with new_client(live.url) as client:
            return sandbox_notify(client, live.settings, payment)  # 20 distinct notify ids for one payment

    responses = in_parallel(20, one)
    assert statuses(responses) == {200: 20}, [r.text for r in responses if r.status_code != 200][:3]
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        paid = session.scalars(select(Fact).where(Fact.kind == "order.paid")).all()
        assert [f.payload["order_id"] for f in paid].count(order["id"]) == 1
        issued = session.scalars(select(Fact).where(Fact.kind == "voucher.issued")).all()
        assert [f.payload["order_id"] for f in issued].count(order["id"]) == 1
    books = _balanced(live_server, live)
    assert (books.payments_fen, books.vouchers) == (19900, 1)


def test_parallel_partial_refunds_never_exceed_what_was_paid(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = _order(live, http, pickup_body(live.shop.sku, live.shop.store))  # 299.00
        payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                            headers={**live.consumer_auth, **key()}).json()
        assert sandbox_notify(http, live.settings, payment).status_code == 200

    def one(_: int) -> httpx.Response:
        return post(f"{live.url}/api/v1/orders/{order['id']}/refunds", json={"amount_fen": 9000},
                          headers={**live.consumer_auth, **key()}, timeout=60)

    responses = in_parallel(10, one)
    assert statuses(responses) == {201: 3, 422: 7}, statuses(responses)  # 3 x 90.00 fit into 299.00
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        refunded = session.scalar(select(func.sum(Refund.amount_fen)).where(
            Refund.order_id == order["id"], Refund.status == RefundStatus.SUCCEEDED))
        assert refunded == 27000
    books = _balanced(live_server, live)
    assert (books.payments_fen, books.refunds_fen, books.orders_refunded_fen) == (29900, 27000, 27000)
