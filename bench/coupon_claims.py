"""Coupon claims over HTTP: successes/s while stock lasts, rejections/s after the sell-out, beside a
bare conditional UPDATE on the same database in the same run.

    .venv/bin/python bench/coupon_claims.py --database-url sqlite:///var/bench/coupons.sqlite3
    .venv/bin/python bench/coupon_claims.py --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench

The database is migrated (a SQLite file is made anew), then one merchant, one template of `--stock`
coupons and `--stock + --rejections` consumers with bearer tokens are inserted. A real server process
(uvicorn with `--workers` processes, as `daodian serve --workers N`; production runs several processes per
ARCHITECTURE.md) serves `POST /api/v1/coupons/{id}/claims`; `--clients` threads spread over
`--client-processes` processes (so the client's GIL is not the bottleneck), each thread with its own
keep-alive connection, claim once per consumer: the first `--stock` claims can all succeed (phase 1,
successes/s), the rest meet a sold-out template (phase 2, rejections/s). Then the same number of bare
`UPDATE coupon_templates SET remaining = remaining - 1 WHERE id = ? AND remaining > 0` transactions run
from `--clients` threads in this process on a second template: the floor the claim path stands on.
"""

import argparse
import hashlib
import multiprocessing
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]

from daodian import migrate  # noqa: E402
from daodian.accounts.models import AuthSession, User  # noqa: E402
from daodian.kit.clock import utcnow  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.marketing.models import CouponTemplate  # noqa: E402
from daodian.merchants.models import Merchant, MerchantStatus  # noqa: E402


def prepare(url: str) -> Settings:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    settings = Settings(env="dev", database_url=url)
    engine = create_db_engine(settings)
    migrate.upgrade(settings, engine)
    engine.dispose()
    return settings


def seed(settings: Settings, stock: int, consumers: int) -> tuple[int, int, list[str]]:
    """(template for HTTP, template for the bare UPDATE, consumer tokens)."""
    now = utcnow()
    with unit_of_work(make_session_factory(create_db_engine(settings))) as session:
        owner = User(phone="+8613000000000", display_name="老板", password_hash="x", is_operator=False,
                     is_active=True, failed_logins=0, created_at=now)
        session.add(owner)
        session.flush()
        merchant = Merchant(name="压测商户", status=MerchantStatus.ACTIVE)
        session.add(merchant)
        session.flush()
        templates = []
        for name in ("HTTP", "bare"):
            template = CouponTemplate(
                merchant_id=merchant.id, name=name, kind="amount", threshold_fen=0, amount_fen=500, scope="merchant",
                scope_values=[], stacking="exclusive", claim_starts_at=now - timedelta(minutes=1),
                claim_ends_at=now + timedelta(days=1), valid_days=7, total_quantity=stock, remaining=stock,
                per_user_limit=1, public=True, created_by=owner.id)
            session.add(template)
            session.flush()
            templates.append(template.id)
        phones = [f"+86170{i:08d}" for i in range(consumers)]
        session.execute(insert(User), [{"phone": p, "display_name": "顾客", "password_hash": "x", "is_operator": False,
                                        "is_active": True, "failed_logins": 0, "created_at": now} for p in phones])
        ids = dict(session.execute(select(User.phone, User.id).where(User.phone.in_(phones))).all())
        tokens = [secrets.token_urlsafe(24) for _ in phones]
        session.execute(insert(AuthSession), [
            {"token_hash": hashlib.sha256(t.encode()).hexdigest(), "user_id": ids[p], "kind": "bearer",
             "created_at": now, "expires_at": now + timedelta(days=1)} for p, t in zip(phones, tokens, strict=True)])
    return templates[0], templates[1], tokens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "daodian.asgi:app", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--log-level", "warning", "--no-access-log"]


def start_server(settings: Settings, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DAODIAN_DATABASE_URL": settings.database_url, "DAODIAN_ENV": "dev"}
    server = subprocess.Popen(server_command(port, workers), env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # each worker imports the app and warms its indexes; slow on a loaded box
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()  # not kill: the supervisor must stop its workers
    server.wait(timeout=30)
    raise RuntimeError("server did not start")


def claim_all(url: str, template_id: int, tokens: list[str], clients: int, processes: int
              ) -> tuple[float, dict[int, int]]:
    """Each token claims once, from `clients` threads spread over `processes` processes; (seconds, counts)."""
    processes = max(1, min(processes, clients))
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [context.Process(target=_claim_process, args=(url, template_id, tokens[i::processes],
                                                            clients // processes, barrier, results))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    parts = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    counts: dict[int, int] = {}
    for _, _, part in parts:
        for status, n in part.items():
            counts[status] = counts.get(status, 0) + n
    return max(end for _, end, _ in parts) - min(start for start, _, _ in parts), counts


def _claim_process(url: str, template_id: int, tokens: list[str], clients: int, barrier, results) -> None:
    barrier.wait()
    start = time.time()
    _, counts = _claim_threads(url, template_id, tokens, clients)
    results.put((start, time.time(), counts))


def _claim_threads(url: str, template_id: int, tokens: list[str], clients: int) -> tuple[float, dict[int, int]]:
    work: queue.Queue[str] = queue.Queue()
    for token in tokens:
        work.put(token)
    counts: dict[int, int] = {}
    lock = threading.Lock()
    path = f"/api/v1/coupons/{template_id}/claims"

    def client() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                try:
                    token = work.get_nowait()
                except queue.Empty:
                    return
                status = http.post(path, headers={"Authorization": f"Bearer {token}"}).status_code
                with lock:
                    counts[status] = counts.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, counts


def health_baseline(url: str, count: int, clients: int) -> float:
    def client() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for _ in range(count // clients):
                http.get("/api/v1/health")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def bare_updates(settings: Settings, template_id: int, count: int, clients: int) -> float:
    engine = create_db_engine(settings, pool_size=clients, max_overflow=0)
    per_client = count // clients
    statement = (update(CouponTemplate).where(CouponTemplate.id == template_id, CouponTemplate.remaining > 0)
                 .values(remaining=CouponTemplate.remaining - 1))

    def client() -> None:
        for _ in range(per_client):
            with engine.begin() as conn:
                conn.execute(statement)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'coupons.sqlite3'}")
    parser.add_argument("--stock", type=int, default=2000)
    parser.add_argument("--rejections", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="server processes (uvicorn --workers)")
    parser.add_argument("--client-processes", type=int, default=4, help="processes the client threads run in")
    args = parser.parse_args()

    settings = prepare(args.database_url)
    http_template, bare_template, tokens = seed(settings, args.stock, args.stock + args.rejections)
    backend = make_url(args.database_url).get_backend_name()
    print(f"{backend}: {args.stock} coupons, {args.stock + args.rejections} consumers, {args.clients} clients in "
          f"{args.client_processes} processes; load average {os.getloadavg()[0]:.2f}")
    print(f"  server: {' '.join(server_command(0, args.workers)[1:])} (port aside)")
    server, url = start_server(settings, args.workers)
    try:
        seconds = health_baseline(url, args.stock, args.clients)
        print(f"  baseline GET /api/v1/health (the server's floor per request): {args.stock / seconds:,.0f}/s")
        seconds, counts = claim_all(url, http_template, tokens[:args.stock], args.clients, args.client_processes)
        print(f"  HTTP claims while stock lasts: {counts} in {seconds:.2f}s = {counts.get(201, 0) / seconds:,.0f} "
              "successes/s")
        seconds, counts = claim_all(url, http_template, tokens[args.stock:], args.clients, args.client_processes)
        print(f"  HTTP claims after sell-out:    {counts} in {seconds:.2f}s = {counts.get(409, 0) / seconds:,.0f} "
              "rejections/s")
    finally:
        server.terminate()
        server.wait(timeout=30)
    seconds = bare_updates(settings, bare_template, args.stock, args.clients)
    print(f"  bare conditional UPDATE, stock lasting: {args.stock / seconds:,.0f}/s")
    seconds = bare_updates(settings, bare_template, args.rejections, args.clients)
    print(f"  bare conditional UPDATE, sold out:      {args.rejections / seconds:,.0f}/s")


if __name__ == "__main__":
    main()
