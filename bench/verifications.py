"""Counter verification (核销) over HTTP: 16 terminals at once against a real server process.

    .venv/bin/python bench/verifications.py --database-url sqlite:///var/bench/verifications.sqlite3
    .venv/bin/python bench/verifications.py --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench_verify

The database is made afresh (the SQLite file deleted, the PostgreSQL database dropped and created), migrated,
and seeded through the services: one merchant, one store, `--terminals` clerks, and `--codes` paid
single-use vouchers (orders of 100, each paid by a sandbox payment whose success was applied). Then a real
server (`uvicorn daodian.asgi:app`, one process, in a subprocess) takes `POST /api/v1/vouchers/verify`
from `--terminals` clients at once, each on its own connection, thread, staff account and `X-Terminal-Id`.

The attempts are every fresh code once, plus `--wrong` of them that are typos (a code with a valid
check symbol that no voucher has: 404 `voucher_not_found`, which also writes the terminal's failure)
and `--used` of them that are codes already consumed (409 `voucher_used_up`), shuffled (seeded).
The throttle on wrong codes is lifted for the run (DAODIAN_VERIFICATION_MAX_FAILURES) so that every
wrong code is judged rather than refused wholesale. Printed: successes/s, rejections/s, p50/p95/p99 latency.
"""

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the seed uses the test factories: the same code paths the tests exercise

from tests.factories import add_staff, make_shop, make_user, pay_order, principal_of, token_for  # noqa: E402

from daodian import migrate  # noqa: E402
from daodian.accounts.models import StaffRole  # noqa: E402
from daodian.kit import codes as voucher_codes  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.orders import service as orders  # noqa: E402
from daodian.orders.schemas import OrderCreate, OrderLineIn  # noqa: E402
from daodian.vouchers.models import Voucher  # noqa: E402

SEED = 20260522


def fresh_database(url: str) -> None:
    """Delete the SQLite file, or drop and create the PostgreSQL database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def seed(settings: Settings, engine, n_codes: int, n_terminals: int) -> tuple[int, list[str], list[str]]:
    """(store id, fresh voucher codes, the terminals' bearer tokens)."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        shop = make_shop(session, name="核销压测车行")
        consumer = make_user(session, name="顾客")
        tokens = []
        for _ in range(n_terminals):
            clerk = make_user(session, name="店员")
            add_staff(session, shop.merchant, clerk, StaffRole.CLERK)
            tokens.append(token_for(session, clerk))
        store_id, item_id, merchant_id = shop.store.id, shop.item.id, shop.merchant.id
    for start in range(0, n_codes, 100):  # orders of up to 100 vouchers, each paid by a sandbox payment
        with unit_of_work(factory) as session:
            quantity = min(100, n_codes - start)
            lines = [OrderLineIn(service_item_id=item_id, quantity=min(50, quantity - k)) for k in range(0, quantity, 50)]
            order = orders.create_order(session, principal_of(session, consumer),
                                        OrderCreate(lines=lines, store_id=store_id), settings)
            pay_order(session, order)
    with unit_of_work(factory, read_only=True) as session:
        codes = list(session.scalars(select(Voucher.code).where(Voucher.merchant_id == merchant_id)))
    return store_id, codes, tokens


def wrong_code(taken: set[str]) -> str:
    """A code with a valid check symbol that no voucher has: what a typo that slips past the check looks like."""
    while True:
        code = voucher_codes.new_code()
        if code not in taken:
            return code


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'verifications.sqlite3'}")
    parser.add_argument("--codes", type=int, default=2000, help="fresh single-use codes, each verified once")
    parser.add_argument("--wrong", type=float, default=0.1, help="typos, as a share of --codes")
    parser.add_argument("--used", type=float, default=0.1, help="re-scans of used codes, as a share of --codes")
    parser.add_argument("--terminals", type=int, default=16)
    args = parser.parse_args()

    fresh_database(args.database_url)
    settings = Settings(env="dev", database_url=args.database_url)
    engine = create_db_engine(settings)
    t = time.perf_counter()
    migrate.upgrade(settings, engine)
    store_id, codes, tokens = seed(settings, engine, args.codes, args.terminals)
    engine.dispose()
    print(f"{engine.dialect.name}: migrated and seeded {len(codes)} paid vouchers in {time.perf_counter() - t:.1f} s")

    rng = random.Random(SEED)
    fresh = codes[:]
    rng.shuffle(fresh)
    # Re-scans of used codes come after their first scan: they are placed in the second half of the run.
    half = len(fresh) // 2
    attempts = [("fresh", c) for c in fresh[:half]]
    tail = [("fresh", c) for c in fresh[half:]]
    taken = set(codes)
    tail += [("wrong", wrong_code(taken)) for _ in range(int(args.codes * args.wrong))]
    tail += [("used", rng.choice(fresh[:half])) for _ in range(int(args.codes * args.used))]
    rng.shuffle(attempts)
    rng.shuffle(tail)
    attempts += tail

    port = free_port()
    env = {**os.environ, "DAODIAN_DATABASE_URL": args.database_url, "DAODIAN_ENV": "dev",
           "DAODIAN_VERIFICATION_MAX_FAILURES": "1000"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "daodian.asgi:app", "--port", str(port),
                               "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        started = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            if server.poll() is not None or time.perf_counter() - started > 120:
                raise SystemExit("server did not start")

        queue = iter(enumerate(attempts))
        lock = threading.Lock()
        results: list[tuple[str, int, str, float]] = []  # (kind, status, error code, ms)

        def terminal(n: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[n]}", "X-Terminal-Id": f"pos-{n + 1}"}
            with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
                client.get("/health")  # connect before the clock starts mattering
                barrier.wait()
                while True:
                    with lock:
                        item = next(queue, None)
                    if item is None:
                        return
                    _, (kind, code) = item
                    t0 = time.perf_counter()
                    response = client.post("/vouchers/verify", json={"code": code, "store_id": store_id})
                    ms = (time.perf_counter() - t0) * 1000
                    error = response.json().get("error", {}).get("code", "") if response.status_code != 200 else ""
                    with lock:
                        results.append((kind, response.status_code, error, ms))

        barrier = threading.Barrier(args.terminals + 1)
        threads = [threading.Thread(target=terminal, args=(n,)) for n in range(args.terminals)]
        for thread in threads:
            thread.start()
        barrier.wait()
        t = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - t
    finally:
        server.terminate()
        server.wait(timeout=30)

    outcome = Counter((kind, status, error) for kind, status, error, _ in results)
    ok = sum(n for (_, status, _), n in outcome.items() if status == 200)
    rejected = sum(n for (_, status, error), n in outcome.items()
                   if error in ("voucher_not_found", "voucher_used_up"))
    expected = {("fresh", 200, ""), ("wrong", 404, "voucher_not_found"), ("used", 409, "voucher_used_up")}
    surprises = {k: n for k, n in outcome.items() if k not in expected}
    ms = np.array([m for *_, m in results])
    ok_ms = np.array([m for _, status, _, m in results if status == 200])
    p = np.percentile(ms, [50, 95, 99])
    print(f"{engine.dialect.name}, {args.terminals} terminals, {len(results)} verifications in {wall:.1f} s "
          f"(server: one uvicorn process)")
    print(f"  successes/s   {ok / wall:8.1f}   ({ok} codes consumed, of {len(codes)})")
    print(f"  rejections/s  {rejected / wall:8.1f}   ({outcome[('wrong', 404, 'voucher_not_found')]} wrong, "
          f"{outcome[('used', 409, 'voucher_used_up')]} used)")
    print(f"  latency ms    p50 {p[0]:7.1f}   p95 {p[1]:7.1f}   p99 {p[2]:7.1f}   "
          f"(successes only: p99 {np.percentile(ok_ms, 99):7.1f})")
    if surprises or ok != len(codes):
        print(f"  UNEXPECTED: {surprises}; consumed {ok} of {len(codes)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
