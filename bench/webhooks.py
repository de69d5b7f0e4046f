"""Webhook delivery from a real server to a real receiver: deliveries/s and commit-to-delivery latency,
beside the receiver's raw capacity measured in the same run.

    flock /tmp/bench.lock .venv/bin/python bench/webhooks.py
    flock /tmp/bench.lock .venv/bin/python bench/webhooks.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench_webhooks

The database is made afresh and migrated; seeded: a developer's app installed at one merchant, one
endpoint subscribed to `order.paid`, pointing at the receiver. The receiver is a separate process (uvicorn,
a bare ASGI app answering 204 and noting each event id's first arrival time). The server is
`uvicorn daodian.asgi:app` with its webhook worker on (the periodic jobs off), one process on SQLite, two on
PostgreSQL (both workers claim deliveries: leases keep each to one of them).

1. Anchor: the receiver's raw capacity, a plain httpx loop (async, `--concurrency` requests in flight, the same
   body size) posting straight to it.
2. Steady: this process commits `order.paid` facts (each about its own order) at `--rate` per second for
   `--seconds`, in small transactions every 50 ms, noting each commit's time; latency is a fact's first
   arrival at the receiver minus its commit. Printed: the delivered rate, p50/p99/max latency.
3. Burst: `--burst` facts committed at once; printed: how fast the backlog drains (deliveries/s from the
   commit to the last arrival).

The run fails (no figures) if the server dies, an event does not arrive within `--wait` seconds, or an
event the bench did not commit arrives.
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    BenchFailed,
    free_port,
    fresh_database,
    load_average,
    main_guard,
    running_server,
    server_command,
)
from tests.factories import make_shop, make_user  # noqa: E402

from daodian import bootstrap, migrate  # noqa: E402
from daodian.apps.models import App, AppInstallation  # noqa: E402
from daodian.kit.clock import utcnow  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.facts import INSERT_FACT, fact_values  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.webhooks.models import EndpointStatus, WebhookEndpoint  # noqa: E402
from daodian.webhooks.signing import new_secret  # noqa: E402

# --- the receiver (its own process: `bench/webhooks.py --receiver PORT`) -----------------------------------


def receiver_app():
    """A bare ASGI app: POST notes the event id's first arrival and answers 204; GET returns what arrived."""
    first: dict[str, float] = {}
    counts = {"posts": 0}

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        if scope["method"] == "POST":
            now = time.time()
            counts["posts"] += 1
            event_id = dict(scope["headers"]).get(b"daodian-event-id", b"").decode()
            if event_id:
                first.setdefault(event_id, now)
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        payload = json.dumps({"first": first, "posts": counts["posts"]}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})

    return app


def serve_receiver(port: int) -> None:
    import uvicorn
    uvicorn.run(receiver_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


class ReceiverProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, __file__, "--receiver", str(self.port)], cwd=ROOT)
        deadline = time.monotonic() + 180  # a loaded box starts processes slowly
        while True:
            try:
                httpx.get(f"{self.url}/seen", timeout=5)
                return
            except httpx.TransportError as exc:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    raise BenchFailed("the receiver did not start") from exc
                time.sleep(0.1)

    def seen(self) -> dict:
        return httpx.get(f"{self.url}/seen", timeout=30).json()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


# --- the bench ----------------------------------------------------------------------------------------------


def seed(settings: Settings, receiver_url: str) -> int:
    """A developer's app installed at a merchant, one endpoint on `order.paid`; the merchant's id."""
    factory = make_session_factory(create_db_engine(settings))
    with unit_of_work(factory) as db:
        shop = make_shop(db)
        developer = make_user(db, name="开发者")
        app = App(developer_id=developer.id, name="bench", description="", client_id="bench-app",
                  secret_hash="0" * 64, redirect_uris=[], web_origins=[], scopes="order:read", created_at=utcnow())
        db.add(app)
        db.flush()
        db.add(AppInstallation(app_id=app.id, merchant_id=shop.merchant.id, scopes="order:read",
                               installed_by=shop.owner.id, installed_at=utcnow()))
        db.add(WebhookEndpoint(app_id=app.id, url=f"{receiver_url}/hooks", events=["order.paid"], description="",
                               secret=new_secret(), status=EndpointStatus.ACTIVE, consecutive_failures=0,
                               created_by=developer.id, created_at=utcnow()))
        db.flush()
        return shop.merchant.id


def raw_capacity(url: str, requests: int, concurrency: int, body: bytes) -> float:
    """Requests/s of a plain httpx loop posting straight to the receiver."""
    async def run() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits) as client:
            queue = iter(range(requests))

            async def worker() -> None:
                for i in queue:
                    response = await client.post(f"{url}/hooks", content=body,
                                                 headers={"Daodian-Event-Id": f"anchor_{i}",
                                                          "Content-Type": "application/json"})
                    if response.status_code != 204:
                        raise BenchFailed(f"the receiver answered {response.status_code}")
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return requests / (time.perf_counter() - started)
    return asyncio.run(run())


class FactWriter:
    """Commits `order.paid` facts, each about an order of its own, and notes when each committed."""

    def __init__(self, settings: Settings, merchant_id: int) -> None:
        self.engine = create_db_engine(settings)
        self.merchant_id = merchant_id
        self.committed: dict[int, float] = {}  # fact id -> commit time
        self.next_order = 1

    def commit(self, count: int) -> None:
        rows = []
        for _ in range(count):
            rows.append(fact_values("order.paid", {"order_id": self.next_order, "payment_id": self.next_order,
                                                   "provider": "sandbox", "amount_fen": 19900, "kind": "service"},
                                    occurred_at=utcnow(), merchant_id=self.merchant_id))
            self.next_order += 1
        with self.engine.begin() as connection:
            ids = connection.execute(INSERT_FACT.returning(INSERT_FACT.table.c.id), rows).scalars().all()
        now = time.time()
        for fact_id in ids:
            self.committed[fact_id] = now

    def steady(self, rate: int, seconds: float) -> None:
        tick, per_tick = 0.05, max(1, round(rate * 0.05))
        started = time.perf_counter()
        for n in range(round(seconds / tick)):
            self.commit(per_tick)
            pause = started + (n + 1) * tick - time.perf_counter()
            if pause > 0:
                time.sleep(pause)


def arrivals(receiver: ReceiverProcess, wanted: set[int], wait: float) -> dict[int, float]:
    """Fact id -> first arrival, once every wanted fact arrived; fails the run after `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        first = receiver.seen()["first"]
        got = {int(k.split("_")[1]): t for k, t in first.items() if k.startswith("evt_")}
        strangers = set(got) - set(wanted) - set(arrivals.earlier)
        if strangers:
            raise BenchFailed(f"{len(strangers)} events arrived that the bench did not commit")
        if wanted <= set(got):
            arrivals.earlier |= wanted
            return {k: got[k] for k in wanted}
        if time.monotonic() > deadline:
            raise BenchFailed(f"{len(wanted - set(got))} of {len(wanted)} events did not arrive in {wait:.0f} s")
        time.sleep(0.2)


arrivals.earlier = set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'webhooks.sqlite3'}")
    parser.add_argument("--rate", type=int, default=600, help="facts committed per second in the steady phase")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--burst", type=int, default=10000)
    parser.add_argument("--anchor", type=int, default=10000, help="requests of the raw-capacity anchor")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (the runner's default)")
    parser.add_argument("--wait", type=float, default=120)
    parser.add_argument("--workers", type=int, default=None, help="server processes; default SQLite 1, PostgreSQL 2")
    parser.add_argument("--receiver", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver is not None:
        return serve_receiver(args.receiver)

    bootstrap.wire()
    fresh_database(args.database_url)
    settings = Settings(env="dev", database_url=args.database_url)
    engine = create_db_engine(settings)
    backend = engine.dialect.name
    workers = args.workers or (1 if backend == "sqlite" else 2)
    migrate.upgrade(settings, engine)
    engine.dispose()
    receiver = ReceiverProcess()
    try:
        merchant_id = seed(settings, receiver.url)
        body = b'{"id":"evt_0_0","type":"order.paid","data":{"order_id":1,"payment_id":1,"amount_fen":19900}}' * 3
        anchor = raw_capacity(receiver.url, args.anchor, args.concurrency, body)
        print(f"{backend}: anchor, the receiver's raw capacity (plain httpx loop, {args.concurrency} in flight): "
              f"{anchor:,.0f} requests/s; {load_average()}")
        env = {"DAODIAN_WEBHOOK_WORKER": "true", "DAODIAN_PERIODIC_JOBS": "false"}
        print(f"  server: {' '.join(server_command(0, workers)[1:])} (port aside), webhook worker on")
        with running_server(args.database_url, workers, env):
            writer = FactWriter(settings, merchant_id)
            writer.commit(1)  # warm-up: the worker is ticking and the receiver answers
            arrivals(receiver, set(writer.committed), args.wait)
            writer.committed.clear()

            writer.steady(args.rate, args.seconds)
            steady = dict(writer.committed)
            arrived = arrivals(receiver, set(steady), args.wait)
            latency = np.array([arrived[f] - steady[f] for f in steady])
            span = max(arrived.values()) - min(steady.values())
            p50, p99 = np.percentile(latency, [50, 99])
            print(f"  steady {args.rate}/s for {args.seconds:.0f} s: {len(steady)} deliveries, "
                  f"{len(steady) / span:,.0f} deliveries/s; commit-to-delivery p50 {p50 * 1000:.0f} ms, "
                  f"p99 {p99 * 1000:.0f} ms, max {latency.max() * 1000:.0f} ms; {load_average()}")

            writer.committed.clear()
            writer.commit(args.burst)
            burst = dict(writer.committed)
            arrived = arrivals(receiver, set(burst), args.wait)
            drain = max(arrived.values()) - min(burst.values())
            print(f"  burst of {args.burst}: drained in {drain:.1f} s, {args.burst / drain:,.0f} deliveries/s "
                  f"({args.burst / drain / anchor:.0%} of the receiver's raw capacity); {load_average()}")
        posts = receiver.seen()["posts"] - args.anchor
        print(f"  requests the receiver took: {posts} for {len(arrivals.earlier)} events "
              f"({posts - len(arrivals.earlier)} repeated)")
    finally:
        receiver.stop()
        os.environ.pop("DAODIAN_WEBHOOK_WORKER", None)


if __name__ == "__main__":
    main_guard(main)
