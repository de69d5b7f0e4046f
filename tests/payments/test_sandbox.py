import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.payments.models import ProviderNotification
from daodian.payments.providers.sandbox import SandboxProvider
from tests.factories import auth, make_user
from tests.orders.helpers import (
    LiveShop,
    create_order,
    key,
    my_vouchers,
    sandbox_notify,
    service_body,
    start_sandbox,
)


def _order(client, headers, order_id: int) -> dict:
    return client.get(f"/api/v1/orders/{order_id}", headers=headers).json()


def test_pay_returns_a_pay_url_and_the_order_waits_for_the_notification(client, db, settings, shop, me):
    order = create_order(client, me, service_body(shop.item))
    payment = start_sandbox(client, me, order["id"])
    assert payment["status"] == "pending" and payment["amount_fen"] == 19900 and payment["provider"] == "sandbox"
    assert f"/sandbox/pay/{payment['id']}?token=" in payment["pay_url"]
    assert _order(client, me, order["id"])["status"] == "created"

    taken = sandbox_notify(client, settings, payment)
    assert taken.status_code == 200, taken.text
    paid = _order(client, me, order["id"])
    assert paid["status"] == "voucher_issued" and paid["paid_fen"] == 19900
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=me).json()["status"] == "succeeded"
    every = [f.kind for f in db.scalars(select(Fact).order_by(Fact.id))]
    kinds = [kind for kind in every if kind != "points.entry"]  # the points earned by paying (loyalty.earning)
    assert kinds[-4:] == ["order.created", "payment.succeeded", "order.paid", "voucher.issued"]
    assert every.count("points.entry") == 2  # one earn: two ledger legs


def test_a_replayed_notification_is_a_no_op(client, db, settings, shop, me):
    order = create_order(client, me, service_body(shop.item))
    payment = start_sandbox(client, me, order["id"])
    body, headers = SandboxProvider(settings.sandbox_key).notification(
        out_trade_no=payment["out_trade_no"], amount_fen=payment["amount_fen"], succeeded=True)
    for _ in range(3):
        assert client.post("/api/v1/payments/notify/sandbox", content=body, headers=headers).status_code == 200
    assert len(my_vouchers(client, me)) == 1
    assert len(db.scalars(select(Fact).where(Fact.kind == "order.paid")).all()) == 1
    assert db.scalars(select(ProviderNotification.outcome)).all() == ["paid"]
    # a second, distinct success notification for the same payment changes nothing either
    assert sandbox_notify(client, settings, payment).status_code == 200
    assert len(my_vouchers(client, me)) == 1


def test_tampered_and_unsigned_notifications_are_rejected(client, db, settings, shop, me):
    order = create_order(client, me, service_body(shop.item))
    payment = start_sandbox(client, me, order["id"])
    body, headers = SandboxProvider(settings.sandbox_key).notification(
        out_trade_no=payment["out_trade_no"], amount_fen=payment["amount_fen"], succeeded=True)
    tampered = body.replace(b'"amount_fen":19900', b'"amount_fen":1')
    response = client.post("/api/v1/payments/notify/sandbox", content=tampered, headers=headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_signature"
    unsigned = client.post("/api/v1/payments/notify/sandbox", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 400
    wrong_key = SandboxProvider(b"not-the-key").notification(out_trade_no=payment["out_trade_no"],
                                                             amount_fen=19900, succeeded=True)
    assert client.post("/api/v1/payments/notify/sandbox", content=wrong_key[0], headers=wrong_key[1]).status_code == 400
    assert _order(client, me, order["id"])["status"] == "created"
    assert db.scalars(select(ProviderNotification)).all() == []


def test_a_signed_notification_with_the_wrong_amount_is_refused(client, settings, shop, me):
    order = create_order(client, me, service_body(shop.item))
    payment = start_sandbox(client, me, order["id"])
    response = sandbox_notify(client, settings, payment, amount_fen=1)
    assert response.status_code == 400 and response.json()["error"]["code"] == "amount_mismatch"
    assert _order(client, me, order["id"])["status"] == "created"


def test_a_failed_payment_leaves_the_order_payable(client, settings, shop, me):
    order = create_order(client, me, service_body(shop.item))
    payment = start_sandbox(client, me, order["id"])
    assert sandbox_notify(client, settings, payment, succeeded=False).status_code == 200
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=me).json()["status"] == "failed"
    again = start_sandbox(client, me, order["id"])
    assert again["id"] != payment["id"]


def test_paying_twice_returns_the_pending_payment(client, shop, me):
    order = create_order(client, me, service_body(shop.item))
    first = start_sandbox(client, me, order["id"])
    second = client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers={**me, **key()})
    assert second.status_code == 200 and second.json()["id"] == first["id"]
    assert len(client.get(f"/api/v1/orders/{order['id']}/payments", headers=me).json()) == 1


def test_only_the_consumer_pays_online(client, db, shop, me):
    order = create_order(client, me, service_body(shop.item))
    stranger = auth(db, make_user(db))
    assert client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                       headers={**stranger, **key()}).status_code == 404  # someone else's order: as if missing
    unknown = client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "alipay"}, headers={**me, **key()})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "provider_unavailable"
    assert client.get("/api/v1/payments/providers").json()["available"] == ["sandbox", "offline"]


def test_a_payment_arriving_after_the_order_closed_is_refunded(client, db, settings, shop, me):
    order = create_order(client, me, service_body(shop.item))
    payment = start_sandbox(client, me, order["id"])
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=me)
    assert sandbox_notify(client, settings, payment).status_code == 200
    assert _order(client, me, order["id"])["status"] == "cancelled"
    late = client.get(f"/api/v1/payments/{payment['id']}", headers=me).json()
    assert late["late"] and late["status"] == "succeeded" and late["refunded_fen"] == 19900
    [refund] = client.get(f"/api/v1/orders/{order['id']}/refunds", headers=me).json()
    assert (refund["status"], refund["amount_fen"], refund["reason"]) == ("succeeded", 19900, "late_payment")
    assert my_vouchers(client, me) == []
    assert db.scalars(select(Fact.kind).where(Fact.kind == "payment.refunded")).one()


def test_the_pay_page(client, shop, me):
    order = create_order(client, me, service_body(shop.item))
    payment = start_sandbox(client, me, order["id"])
    path = urlsplit(payment["pay_url"])
    page = client.get(f"{path.path}?{path.query}")
    assert page.status_code == 200 and 'value="pay"' in page.text and 'value="fail"' in page.text
    assert "199.00" in page.text
    assert client.get(path.path + "?token=forged").status_code == 404


# --- the real asynchronous flow, on a live server ----------------------------------------------


class _Relay:
    """A stand-in network between the sandbox and the app: holds notifications until released, and
    can answer the first few with 503 to make the sandbox retry."""

    def __init__(self, target: str, fail_first: int = 0):
        self.target, self.fail_first = target, fail_first
        self.received: list[bytes] = []
        self.release = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                relay.received.append(body)
                if len(relay.received) <= relay.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                relay.release.wait(timeout=20)
                forwarded = httpx.post(relay.target + self.path, content=body, headers={
                    k: v for k, v in self.headers.items() if k.lower() in ("content-type", "x-sandbox-signature")})
                self.send_response(forwarded.status_code)
                self.end_headers()
                self.wfile.write(forwarded.content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()


def _wait(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("fail_first", [0, 2])
def test_end_to_end_the_order_is_paid_only_when_the_notification_arrives(live_server, monkeypatch, fail_first):
    live = LiveShop(live_server)
    relay = _Relay(live_server.url, fail_first=fail_first)
    monkeypatch.setattr(live_server.settings, "sandbox_notify_base_url", relay.url)
    try:
        with live.client() as http:
            order = http.post("/api/v1/orders", json=service_body(live.shop.item),
                              headers={**live.consumer_auth, **key()}).json()
            payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                                headers={**live.consumer_auth, **key()}).json()
            page = httpx.get(payment["pay_url"])
            assert page.status_code == 200
            token = parse_qs(urlsplit(payment["pay_url"]).query)["token"][0]
            pressed = httpx.post(f"{live.url}/sandbox/pay/{payment['id']}", data={"token": token, "outcome": "pay"})
            assert pressed.status_code == 202

            def status() -> str:
                return http.get(f"/api/v1/orders/{order['id']}", headers=live.consumer_auth).json()["status"]

            assert _wait(lambda: len(relay.received) > fail_first)  # the sandbox sent it (and retried)
            time.sleep(0.3)
            assert status() == "created"  # in flight: not paid yet
            relay.release.set()
            assert _wait(lambda: status() == "voucher_issued")
            assert json.loads(relay.received[-1])["out_trade_no"] == payment["out_trade_no"]
            with unit_of_work(live_server.session_factory, read_only=True) as session:
                outcomes = session.scalars(select(ProviderNotification.outcome).where(
                    ProviderNotification.reference == payment["out_trade_no"])).all()
            assert outcomes == ["paid"]
            again = httpx.post(f"{live.url}/sandbox/pay/{payment['id']}", data={"token": token, "outcome": "pay"})
            assert again.status_code == 409  # nothing left to pay
    finally:
        relay.close()


def test_end_to_end_without_interception(live_server):
    live = LiveShop(live_server)
    with live.client() as http:
        order = http.post("/api/v1/orders", json=service_body(live.shop.item),
                          headers={**live.consumer_auth, **key()}).json()
        payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"},
                            headers={**live.consumer_auth, **key()}).json()
        token = parse_qs(urlsplit(payment["pay_url"]).query)["token"][0]
        httpx.post(f"{live.url}/sandbox/pay/{payment['id']}", data={"token": token, "outcome": "pay"})
        assert _wait(lambda: http.get(f"/api/v1/orders/{order['id']}",
                                      headers=live.consumer_auth).json()["status"] == "voucher_issued")
