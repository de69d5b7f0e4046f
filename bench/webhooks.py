"""Webhook delivery from a real server to a real receiver: deliveries/s and commit-to-delivery latency,
beside the receiver's raw capacity measured in the same run.

    flock /tmp/bench.lock .venv/bin/python bench/webhooks.py
    flock /tmp/bench.lock .venv/bin/python bench/webhooks.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench_webhooks

The database is made afresh and migrated; seeded: a developer's app installed at one merchant, one
endpoint subscribed to `order.paid`, pointing at the receiver. The receiver is a separate process
(bench/webhook_receiver.py: a minimal asyncio HTTP/1.1 server with httptools' parser, answering 204 and noting
each event id's first arrival time), cheap enough that its capacity is far above the rate measured. The server is
`uvicorn daodian.asgi:app` with its webhook worker on (the periodic jobs off), one process on SQLite, two on
PostgreSQL (both workers claim deliveries: leases keep each to one of them).

1. Anchor: the receiver's raw capacity, wrk (a C client, bench/webhook_anchor.lua: `--concurrency` connections,
   the same body size, an event id of its own per request) posting straight to it for `--anchor` seconds.
2. Steady: this process commits `order.paid` facts (each about its own order) at `--rate` per second for
   `--seconds`, in small transactions every 50 ms, noting each commit's time; latency is a fact's first
   arrival at the receiver minus its commit. Printed: the delivered rate, p50/p99/max latency.
3. Burst: `--burst` facts committed at once; printed: how fast the backlog drains (deliveries/s from the
   commit to the last arrival).

The run fails (no figures) if the server dies, an event does not arrive within `--wait` seconds, an event
the bench did not commit arrives (any event id but the anchor's and the committed facts'), or the receiver
answers the anchor anything but 204.
"""

import argparse
import os
import re
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
    deployed_workers,
    free_port,
    load_average,
    main_guard,
    migrated_database,
    running_server,
    server_command,
    wrk_binary,
)
from tests.factories import make_shop, make_user  # noqa: E402

from daodian import bootstrap  # noqa: E402
from daodian.apps.models import App, AppInstallation  # noqa: E402
from daodian.kit.clock import utcnow  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.facts import INSERT_FACT, fact_values  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.webhooks.models import EndpointStatus, WebhookEndpoint  # noqa: E402
from daodian.webhooks.signing import new_secret  # noqa: E402

# --- the receiver (its own process: bench/webhook_receiver.py) ---------------------------------------------


class ReceiverProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "webhook_receiver.py"), str(self.port)],
                                        cwd=ROOT)
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


def raw_capacity(url: str, seconds: float, concurrency: int, body: bytes) -> tuple[float, int]:
    """Requests/s of wrk (a C client: it costs the shared cores little) posting straight to the receiver, each
    request with an event id of its own; and how many it sent. Any answer but 204 fails the run."""
    output = subprocess.run([wrk_binary(), "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "10s",
                             "-s", str(ROOT / "bench" / "webhook_anchor.lua"), f"{url}/hooks", "--", body.decode()],
                            capture_output=True, text=True, timeout=seconds + 60).stdout
    if "Socket errors" in output or "non-204: 0" not in output:
        raise BenchFailed(f"the anchor's requests did not all answer 204:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return rate, int(re.search(r"(\d+) requests in", output).group(1))


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
        ours = {k: t for k, t in first.items() if EVENT_ID.fullmatch(k)}
        got = {int(k.split("_")[1]): t for k, t in ours.items()}
        strangers = len(first) - len(ours) + len(set(got) - set(wanted) - set(arrivals.earlier))
        if strangers:
            raise BenchFailed(f"{strangers} events arrived that the bench did not commit")
        if wanted <= set(got):
            arrivals.earlier |= wanted
            return {k: got[k] for k in wanted}
        if time.monotonic() > deadline:
            raise BenchFailed(f"{len(wanted - set(got))} of {len(wanted)} events did not arrive in {wait:.0f} s")
        time.sleep(0.2)


arrivals.earlier = set()
EVENT_ID = re.compile(r"evt_\d+_\d+")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'webhooks.sqlite3'}")
    parser.add_argument("--rate", type=int, default=600, help="facts committed per second in the steady phase")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--burst", type=int, default=10000)
    parser.add_argument("--anchor", type=float, default=5, help="seconds of the raw-capacity anchor")
    parser.add_argument("--concurrency", type=int, default=16, help="the anchor's requests in flight (the runner's)")
    parser.add_argument("--wait", type=float, default=120)
    parser.add_argument("--workers", type=int, default=None, help="server processes; default SQLite 1, PostgreSQL 2")
    args = parser.parse_args()

    bootstrap.wire()
    settings = migrated_database(args.database_url)
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    workers = deployed_workers(settings, args.workers)
    receiver = ReceiverProcess()
    try:
        merchant_id = seed(settings, receiver.url)
        body = b'{"id":"evt_0_0","type":"order.paid","data":{"order_id":1,"payment_id":1,"amount_fen":19900}}' * 3
        anchor, _ = raw_capacity(receiver.url, args.anchor, args.concurrency, body)
        anchor_posts = receiver.seen()["posts"]
        print(f"{backend}: anchor, the receiver's raw capacity (wrk, {args.concurrency} in flight, "
              f"{args.anchor:g} s): {anchor:,.0f} requests/s; {load_average()}")
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
        posts = receiver.seen()["posts"] - anchor_posts
        print(f"  requests the receiver took: {posts} for {len(arrivals.earlier)} events "
              f"({posts - len(arrivals.earlier)} repeated)")
    finally:
        receiver.stop()
        os.environ.pop("DAODIAN_WEBHOOK_WORKER", None)


if __name__ == "__main__":
    main_guard(main)
