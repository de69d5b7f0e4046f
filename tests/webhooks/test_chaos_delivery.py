"""kill -9 of a real server process while its webhook worker delivers: no event is lost, and an event that
arrives more than once carries the same id and the same body; per order, the first arrivals keep the order
the facts were committed in.

The server is `uvicorn daodian.asgi:app` with its worker on (tests/test_chaos.py's Server), short leases so
that deliveries a dead process had claimed go out again soon; the receiver is slow enough (20 ms an answer)
that kills land in the middle of sends.
"""

import random
import subprocess
import sys
import time
from collections import defaultdict

import httpx
import pytest

from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.facts import append_fact
from daodian.kit.settings import PROJECT_ROOT
from daodian.webhooks.models import EndpointStatus, WebhookEndpoint
from daodian.webhooks.signing import new_secret
from tests.factories import make_shop, make_user
from tests.support.databases import drop_database, prepare_database
from tests.test_chaos import Server
from tests.webhooks.conftest import install, make_app
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

ORDERS, KILLS = 150, 3
STEPS = ("order.created", "order.paid", "order.completed")


class PatientServer(Server):
    """tests/test_chaos.py's server, given longer to start on a loaded machine, and never left running when
    it does not answer in time."""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "daodian.asgi:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"], env=self.env, cwd=PROJECT_ROOT)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start (exit status {self.process.returncode})")


class SlowReceiver(Receiver):
    def start(self):
        started = super().start()
        handler = self._server.RequestHandlerClass
        post = handler.do_POST

        def slow_post(request) -> None:
            time.sleep(0.02)
            post(request)
        handler.do_POST = slow_post
        return started


@pytest.fixture
def world(backend, tmp_path):
    settings = prepare_database(backend, "daodian_test_webhook_chaos", tmp_path)
    engine = create_db_engine(settings)
    factory = make_session_factory(engine)
    receiver = SlowReceiver().start()
    with unit_of_work(factory) as db:
        shop, developer = make_shop(db, name="混沌车行"), make_user(db, name="开发者")
        app = make_app(db, developer)
        install(db, app, shop.merchant, shop.owner)
        endpoint = WebhookEndpoint(app_id=app.id, url=receiver.url, events=list(STEPS), description="",
                                   secret=new_secret(), status=EndpointStatus.ACTIVE, consecutive_failures=0,
                                   created_by=developer.id)
        db.add(endpoint)
        db.flush()
        merchant_id = shop.merchant.id
    yield settings, factory, receiver, merchant_id
    receiver.stop()
    engine.dispose()
    drop_database(settings)


def test_kill_9_during_delivery_loses_no_event(world, tmp_path):
    settings, factory, receiver, merchant_id = world
    server = PatientServer(settings.database_url, tmp_path / "facts")
    server.env |= {"DAODIAN_WEBHOOK_WORKER": "true", "DAODIAN_WEBHOOK_LEASE_SECONDS": "5",
                   "DAODIAN_WEBHOOK_TIMEOUT_SECONDS": "2", "DAODIAN_WEBHOOK_POLL_SECONDS": "0.1"}
    rng = random.Random(11)
    committed = []
    try:
        server.start()
        kills = sorted(rng.sample(range(10, ORDERS * len(STEPS) // 10), KILLS))
        batch = 0
        for step in STEPS:
            for first in range(0, ORDERS, 10):
                with unit_of_work(factory) as db:
                    for order_id in range(first + 1, first + 11):
                        committed.append(append_fact(db, step, {"order_id": order_id, "total_fen": 100},
                                                     merchant_id=merchant_id).id)
                batch += 1
                time.sleep(0.05)
                if batch in kills:
                    server.kill()
                    time.sleep(rng.uniform(0.0, 0.3))
                    server.start()
        wanted = {f"evt_{fact_id}_" for fact_id in committed}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            arrived = {event["id"].rsplit("_", 1)[0] + "_" for event in receiver.events()}
            if wanted <= arrived:
                break
            time.sleep(0.5)
    finally:
        server.stop()

    received = receiver.received
    by_id = defaultdict(list)
    for r in received:
        by_id[r.headers["Daodian-Event-Id"]].append(r)
    assert {i.rsplit("_", 1)[0] + "_" for i in by_id} == wanted, "an event was lost (or one nobody committed came)"
    for event_id, copies in by_id.items():
        assert all(c.event["id"] == event_id and c.body == copies[0].body for c in copies)
    first_arrival = {}
    for position, r in enumerate(received):
        first_arrival.setdefault(r.headers["Daodian-Event-Id"], position)
    per_order = defaultdict(list)
    for event_id, _ in sorted(first_arrival.items(), key=lambda kv: kv[1]):
        event = by_id[event_id][0].event
        per_order[event["data"]["order_id"]].append(event["type"])
    assert all(types == list(STEPS) for types in per_order.values()), "an order's events overtook each other"
    print(f"{len(received)} requests for {len(by_id)} events ({len(received) - len(by_id)} repeated)")
