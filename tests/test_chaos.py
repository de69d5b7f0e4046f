"""Chaos: parallel order -> pay -> verify flows against a real server process that is killed with SIGKILL five
times at random moments and restarted; afterwards the books must hold on the database the crashes left.

Checked then: every paid order has exactly one successful payment for its total, no voucher use is consumed
twice (verifications never exceed a voucher's uses, the counters agree with the rows), every earned point sits
in a balanced ledger (`daodian points reconcile` exits 0), and nothing a client saw succeed was lost. Clients
retry what a crash interrupted with the same Idempotency-Key, as a real client must.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.settings import PROJECT_ROOT
from daodian.loyalty.models import PointsRule
from daodian.orders.models import Order, OrderStatus
from daodian.payments.models import Payment, PaymentStatus
from daodian.payments.providers.sandbox import SandboxProvider
from daodian.vouchers.models import Verification, Voucher
from tests.factories import make_shop, make_user, token_for
from tests.support.databases import prepare_database
from tests.support.live_server import _free_port

pytestmark = pytest.mark.slow

KILLS = 5
CLIENTS = 4
RUN_SECONDS = 25
PAID = {OrderStatus.PAID, OrderStatus.VOUCHER_ISSUED, OrderStatus.COMPLETED}


class Server:
    """`uvicorn daodian.asgi:app` in a process of its own, so that SIGKILL takes it down mid-transaction."""

    def __init__(self, database_url: str, facts_dir) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DAODIAN_DATABASE_URL": database_url, "DAODIAN_ENV": "test",
                    "DAODIAN_SECRET_KEY": "test-secret-not-for-production", "DAODIAN_FACTS_DIR": str(facts_dir),
                    "DAODIAN_SANDBOX_NOTIFY_BASE_URL": self.url,
                    # A key claimed by a request the kill interrupted is free again soon: clients retry with it.
                    "DAODIAN_IDEMPOTENCY_LEASE_SECONDS": "5"}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "daodian.asgi:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"], env=self.env, cwd=PROJECT_ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def retrying(stop: threading.Event, send, url: str, attempts: int = 200, **request) -> httpx.Response | None:
    """Repeat a request (same body, same Idempotency-Key) until the server answers something other than a
    crash: a refused connection, a dropped one, a 5xx while it restarts, or a 409 'in progress' left by a
    request the crash interrupted (its key is free again after the lease)."""
    for _ in range(attempts):
        try:
            response = send(url, **request)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code < 500 and not (
                response.status_code == 409 and response.json()["error"]["code"] == "idempotency_in_progress"):
            return response
        if stop.is_set() and response is None:
            return None
        time.sleep(0.2)
    return None


def voucher_of(client: httpx.Client, headers: dict, order_id: int, stop: threading.Event) -> str | None:
    """The consumer's voucher for this order, from their voucher list (oldest first, page by page)."""
    cursor = None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = retrying(stop, client.get, "/api/v1/vouchers", params=params, headers=headers)
        if page is None or page.status_code != 200:
            return None
        body = page.json()
        for voucher in body["items"]:
            if voucher["order_id"] == order_id:
                return voucher["code"]
        cursor = body["next_cursor"]
        if not cursor:
            return None


def flows(base: str, headers: dict, clerk: dict, item_id: int, store_id: int, sandbox_key: str,
          stop: threading.Event, seen: list) -> None:
    """One consumer: order, pay (the sandbox's signed success posted to our notify URL), verify at the counter."""
    client = httpx.Client(base_url=base, timeout=10)
    provider = SandboxProvider(sandbox_key)
    while not stop.is_set():
        order_key, pay_key = uuid.uuid4().hex, uuid.uuid4().hex
        body = {"lines": [{"service_item_id": item_id, "quantity": 1}], "store_id": store_id}
        order = retrying(stop, client.post, "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": order_key})
        if order is None or order.status_code != 201:
            continue
        order_id = order.json()["id"]
        payment = retrying(stop, client.post, f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"},
                           headers={**headers, "Idempotency-Key": pay_key})
        if payment is None or payment.status_code != 201:
            continue
        payment = payment.json()
        note, note_headers = provider.notification(out_trade_no=payment["out_trade_no"],
                                                   amount_fen=payment["amount_fen"], succeeded=True)
        notified = retrying(stop, client.post, "/api/v1/payments/notify/sandbox", content=note, headers=note_headers)
        if notified is None or notified.status_code != 200:
            continue
        code = voucher_of(client, headers, order_id, stop)
        if code is None:
            continue
        verified = retrying(stop, client.post, "/api/v1/vouchers/verify", json={"code": code, "store_id": store_id},
                            headers=clerk)
        seen.append((order_id, code, verified.status_code if verified is not None else None))
    client.close()


@pytest.fixture
def world(backend, tmp_path):
    settings = prepare_database(backend, "daodian_test_chaos", tmp_path)
    engine = create_db_engine(settings)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        shop = make_shop(session, item_price_fen=1000, name="混沌车行")
        session.add(PointsRule(merchant_id=shop.merchant.id, points_per_yuan=1))
        consumers = [{"Authorization": f"Bearer {token_for(session, make_user(session, name=f'顾客{i}'))}"}
                     for i in range(CLIENTS)]
        clerk = {"Authorization": f"Bearer {token_for(session, shop.clerk)}"}
        ids = (shop.item.id, shop.store.id)
    yield settings, factory, consumers, clerk, ids
    engine.dispose()


def test_five_sigkills_lose_nothing_and_count_nothing_twice(world, tmp_path):
    settings, factory, consumers, clerk, (item_id, store_id) = world
    server = Server(settings.database_url, tmp_path / "facts")
    server.start()
    stop, seen = threading.Event(), []
    threads = [threading.Thread(target=flows, args=(f"{server.url}", headers, clerk, item_id, store_id,
                                                     settings.sandbox_key, stop, seen), daemon=True)
               for headers in consumers]
    rng = random.Random(int(os.environ.get("DAODIAN_CHAOS_SEED", "7")))
    try:
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(1.0, RUN_SECONDS / KILLS))
            server.kill()
            time.sleep(rng.uniform(0.0, 0.5))
            server.start()
        time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a client hung"
    finally:
        server.stop()

    verified_ok = {code for _, code, status in seen if status == 200}
    assert len(seen) >= 10, f"too few flows completed to mean anything: {len(seen)}"
    with unit_of_work(factory, read_only=True) as session:
        paid = session.scalars(select(Order).where(Order.status.in_(PAID))).all()
        assert paid, "no order was paid"
        for order in paid:
            succeeded = session.scalars(select(Payment).where(Payment.order_id == order.id,
                                                              Payment.status == PaymentStatus.SUCCEEDED)).all()
            assert len(succeeded) == 1, f"order {order.id}: {len(succeeded)} successful payments"
            assert succeeded[0].amount_fen == order.total_fen == order.paid_fen
            assert session.scalar(select(func.count()).select_from(Voucher).where(Voucher.order_id == order.id)) == 1
        for voucher in session.scalars(select(Voucher)):
            uses = session.scalar(select(func.count()).select_from(Verification)
                                  .where(Verification.voucher_id == voucher.id, Verification.reversed_at.is_(None)))
            assert uses <= voucher.uses_total, f"voucher {voucher.id} verified {uses} times"
            assert voucher.uses_left == voucher.uses_total - uses - voucher.refunded_uses, f"voucher {voucher.id}"
        codes_used = set(session.scalars(select(Voucher.code).join(Verification, Verification.voucher_id == Voucher.id)))
        assert verified_ok <= codes_used, "a verification a client saw succeed is not in the database"
    daodian = os.path.join(os.path.dirname(sys.executable), "daodian")
    reconcile = subprocess.run([daodian, "points", "reconcile"], cwd=PROJECT_ROOT,
                               env={**os.environ, "DAODIAN_DATABASE_URL": settings.database_url},
                               capture_output=True, text=True, timeout=120)
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
