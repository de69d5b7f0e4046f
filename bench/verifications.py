"""Counter verification (核销) over HTTP: 16 terminals at once against a real server, beside a bare
conditional UPDATE of the same table in the same run.

    flock /tmp/bench.lock .venv/bin/python bench/verifications.py
    flock /tmp/bench.lock .venv/bin/python bench/verifications.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench_verify

The database is made afresh (the SQLite file deleted, the PostgreSQL database dropped and created), migrated,
and seeded through the services: one merchant, one store, `--terminals` clerks, and `--codes` paid
single-use vouchers (orders of 100, each paid by a sandbox payment whose success was applied). Then a real
server (`uvicorn daodian.asgi:app`, `--workers` processes as deployed: SQLite 1, PostgreSQL 2) takes
`POST /api/v1/vouchers/verify` from `--terminals` terminals at once: wrk (a C client: a Python one took
much of the 2 shared cores itself) with one thread and one keep-alive connection per terminal, each with its
own clerk's bearer token and `X-Terminal-Id` (bench/verifications.lua).

The attempts are every fresh code once, plus `--wrong` of them that are typos (a code with a valid
check symbol that no voucher has: 404 `voucher_not_found`, which also writes the terminal's failure)
and `--used` of them that are codes already consumed (409 `voucher_used_up`), shuffled (seeded); each terminal
has its share of the fresh codes, then of the typos and re-scans (a re-scan always of a code it consumed
itself earlier, so the answer does not depend on the terminals' pace). The throttle on wrong codes is lifted for the run
(DAODIAN_VERIFICATION_MAX_FAILURES) so that every wrong code is judged rather than refused wholesale.
Printed: successes/s, rejections/s, p50/p95/p99 latency; then the anchor: `--bare` bare transactions of
one `UPDATE vouchers SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0 AND expires_at > ?` from
`--terminals` threads of this process, each on a voucher of its own (on SQLite taking turns at writing, as the
server does).

The run fails (exit 1, no rate) if a terminal does not finish, wrk sees a socket error, the server dies,
an answer is not the one its attempt expects, or the database does not hold exactly one verification per
fresh code with no use left.
"""

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the seed uses the test factories: the same code paths the tests exercise

from bench.harness import (  # noqa: E402
    BenchFailed,
    deployed_workers,
    fresh_database,
    in_threads,
    load_average,
    main_guard,
    running_server,
    server_command,
    wrk_binary,
    wrk_until,
)
from tests.factories import add_staff, make_item, make_shop, make_user, pay_order, principal_of, token_for  # noqa: E402

from daodian import bootstrap, migrate  # noqa: E402
from daodian.accounts.models import StaffRole  # noqa: E402
from daodian.kit import codes as voucher_codes  # noqa: E402
from daodian.kit.clock import utcnow  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.orders import service as orders  # noqa: E402
from daodian.orders.schemas import OrderCreate, OrderLineIn  # noqa: E402
from daodian.vouchers.models import Verification, Voucher  # noqa: E402

SEED = 20260522
LUA = ROOT / "bench" / "verifications.lua"
EXPECTED = {"fresh": (200, "-"), "wrong": (404, "voucher_not_found"), "used": (409, "voucher_used_up")}


def paid_vouchers(session, settings: Settings, consumer, store_id: int, item_id: int, count: int) -> None:
    """`count` vouchers of one item, in orders of up to 100, each paid by a sandbox payment applied."""
    for start in range(0, count, 100):
        quantity = min(100, count - start)
        lines = [OrderLineIn(service_item_id=item_id, quantity=min(50, quantity - k)) for k in range(0, quantity, 50)]
        order = orders.create_order(session, principal_of(session, consumer), OrderCreate(lines=lines, store_id=store_id),
                                    settings)
        pay_order(session, order)


def seed(settings: Settings, engine, n_codes: int, n_terminals: int, bare: int) -> dict:
    """The store, the fresh codes, the terminals' tokens, and the anchor's vouchers (one per terminal, with
    enough uses for its share of the bare UPDATEs)."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        shop = make_shop(session, name="核销压测车行")
        consumer = make_user(session, name="顾客")
        tokens = []
        for _ in range(n_terminals):
            clerk = make_user(session, name="店员")
            add_staff(session, shop.merchant, clerk, StaffRole.CLERK)
            tokens.append(token_for(session, clerk))
        anchor_item = make_item(session, shop.merchant, [shop.store.id], price_fen=100)
        anchor_item.sessions = bare // n_terminals + 1
        session.flush()
        store_id, item_id, merchant_id = shop.store.id, shop.item.id, shop.merchant.id
        paid_vouchers(session, settings, consumer, store_id, anchor_item.id, n_terminals)
    for start in range(0, n_codes, 1000):  # a transaction per thousand: the seed stays light on memory
        with unit_of_work(factory) as session:
            paid_vouchers(session, settings, consumer, store_id, item_id, min(1000, n_codes - start))
    with unit_of_work(factory, read_only=True) as session:
        codes = list(session.scalars(select(Voucher.code).where(Voucher.service_item_id == item_id)))
        anchors = list(session.scalars(select(Voucher.id).where(Voucher.service_item_id == anchor_item.id)))
    return {"store_id": store_id, "merchant_id": merchant_id, "item_id": item_id, "codes": codes, "tokens": tokens,
            "anchors": anchors}


def attempts_of(codes: list[str], terminals: int, wrong: float, used: float) -> list[list[tuple[str, str]]]:
    """Each terminal's attempts, in the order it sends them: its share of the fresh codes, shuffled, with its
    typos and re-scans in the second half, a re-scan always of a code this terminal consumed in its first half
    (so it comes after that scan's answer, whatever pace the other terminals keep)."""
    rng = random.Random(SEED)
    fresh = codes[:]
    rng.shuffle(fresh)
    taken = set(codes)
    plans = []
    for n in range(terminals):
        mine = fresh[n::terminals]
        half = len(mine) // 2
        head = [("fresh", c) for c in mine[:half]]
        tail = [("fresh", c) for c in mine[half:]]
        share = range(n, len(codes), terminals)  # this terminal's share of the typos and re-scans
        tail += [("wrong", wrong_code(taken)) for i in share if i < int(len(codes) * wrong)]
        tail += [("used", rng.choice(mine[:half])) for i in share if i < int(len(codes) * used) and half]
        rng.shuffle(head)
        rng.shuffle(tail)
        plans.append(head + tail)
    return plans


def wrong_code(taken: set[str]) -> str:
    """A code with a valid check symbol that no voucher has: what a typo that slips past the check looks like."""
    while True:
        code = voucher_codes.new_code()
        if code not in taken:
            taken.add(code)
            return code


def verify_over_http(url: str, seeded: dict, plans: list[list[tuple[str, str]]]) -> dict:
    """Every attempt once through wrk, one terminal per thread; the answers and the wall time."""
    terminals = len(plans)
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        folder = Path(tmp)
        for n, plan in enumerate(plans):
            (folder / f"attempts-{n}").write_text("".join(f"{kind} {code}\n" for kind, code in plan))
        (folder / "tokens").write_text("".join(f"{token}\n" for token in seeded["tokens"]))
        done = [folder / f"terminal-{n}" for n in range(terminals)]
        command = [wrk_binary(), f"-t{terminals}", f"-c{terminals}", "-d3600s", "--timeout", "30s", "-s", str(LUA),
                   url, "--", str(folder), str(seeded["store_id"])]
        wrk_until(command, lambda: all(path.exists() for path in done), timeout_s=600)
        results, firsts, lasts = [], [], []
        for path in done:
            for line in path.read_text().splitlines():
                kind, *rest = line.split()
                if kind == "first":
                    firsts.append(float(rest[0]))
                elif kind == "last":
                    lasts.append(float(rest[0]))
                else:
                    results.append((kind, int(rest[0]), rest[1], float(rest[2])))
    return {"results": results, "wall": (max(lasts) - min(firsts)) / 1000}


def check_database(settings: Settings, seeded: dict) -> str:
    """One verification per fresh code and no use left, or the run fails."""
    engine = create_db_engine(settings)
    with engine.connect() as conn:
        verifications, vouchers = conn.execute(
            select(func.count(Verification.id), func.count(Verification.voucher_id.distinct()))
            .join(Voucher, Voucher.id == Verification.voucher_id).where(Voucher.service_item_id == seeded["item_id"])).one()
        left = conn.scalar(select(func.sum(Voucher.uses_left)).where(Voucher.service_item_id == seeded["item_id"]))
    engine.dispose()
    n = len(seeded["codes"])
    if (verifications, vouchers, left) != (n, n, 0):
        raise BenchFailed(f"database: {verifications} verifications of {vouchers} vouchers, {left} uses left "
                          f"(expected {n} of {n}, 0 left)")
    return f"{verifications} verifications of {vouchers} vouchers, 0 uses left (exact)"


def bare_updates(settings: Settings, anchors: list[int], count: int, clients: int) -> float:
    """`count` bare transactions of the verification's conditional UPDATE, from `clients` threads, each on a
    voucher of its own; per second."""
    engine = create_db_engine(settings, pool_size=clients, max_overflow=0)
    table = Voucher.__table__
    per_client = count // clients
    # SQLite: the threads take turns at writing, as the server's write turn does (kit.api.http); queueing on
    # SQLite's own busy timeout instead, 16 threads on a loaded machine died with "database is locked".
    turn = threading.Lock() if settings.is_sqlite else nullcontext()

    def client(i: int) -> None:
        for _ in range(per_client):
            now = utcnow()
            with turn, engine.begin() as conn:
                changed = conn.execute(update(table).where(table.c.id == anchors[i], table.c.uses_left > 0,
                                                           table.c.expires_at > now)
                                       .values(uses_left=table.c.uses_left - 1, updated_at=now)).rowcount
            if changed != 1:
                raise BenchFailed(f"a bare UPDATE of voucher {anchors[i]} changed {changed} rows")

    seconds = in_threads(clients, client)
    engine.dispose()
    return per_client * clients / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'verifications.sqlite3'}")
    parser.add_argument("--codes", type=int, default=4000, help="fresh single-use codes, each verified once")
    parser.add_argument("--wrong", type=float, default=0.1, help="typos, as a share of --codes")
    parser.add_argument("--used", type=float, default=0.1, help="re-scans of used codes, as a share of --codes")
    parser.add_argument("--terminals", type=int, default=16)
    parser.add_argument("--bare", type=int, default=8000, help="bare UPDATE transactions for the anchor")
    parser.add_argument("--workers", type=int, default=None,
                        help="server processes; default as deployed: SQLite 1, PostgreSQL 2")
    args = parser.parse_args()

    wrk_binary()
    bootstrap.wire()  # the seed pays orders: their vouchers are issued by an OrderPaid handler
    fresh_database(args.database_url)
    settings = Settings(env="dev", database_url=args.database_url)
    engine = create_db_engine(settings)
    backend = engine.dialect.name
    workers = deployed_workers(settings, args.workers)
    started = time.perf_counter()
    migrate.upgrade(settings, engine)
    seeded = seed(settings, engine, args.codes, args.terminals, args.bare)
    engine.dispose()
    print(f"{backend}: migrated and seeded {len(seeded['codes'])} paid vouchers in {time.perf_counter() - started:.1f} s")
    plans = attempts_of(seeded["codes"], args.terminals, args.wrong, args.used)
    attempts = [attempt for plan in plans for attempt in plan]

    print(f"  server: {' '.join(server_command(0, workers)[1:])} (port aside); {load_average()}")
    # No webhook worker (none is subscribed here): on SQLite it writes outside the server's write turn. No periodic
    # jobs, as in the other benches: the facts job (DuckDB) fired at start-up, mid-run, and took a core.
    with running_server(args.database_url, workers, {"DAODIAN_VERIFICATION_MAX_FAILURES": "1000",
                                                     "DAODIAN_WEBHOOK_WORKER": "false",
                                                     "DAODIAN_PERIODIC_JOBS": "false"}) as url:
        run = verify_over_http(url, seeded, plans)
    results, wall = run["results"], run["wall"]
    if len(results) != len(attempts):
        raise BenchFailed(f"{len(results)} answers to {len(attempts)} attempts")
    outcome = Counter((kind, status, code) for kind, status, code, _ in results)
    surprises = {k: n for k, n in outcome.items() if (k[1], k[2]) != EXPECTED[k[0]]}
    if surprises:
        raise BenchFailed(f"unexpected answers (kind, status, code): {surprises}")
    exact = check_database(settings, seeded)
    ok = outcome[("fresh", 200, "-")]
    rejected = len(results) - ok
    ms = np.array([m for *_, m in results])
    ok_ms = np.array([m for kind, *_, m in results if kind == "fresh"])
    p = np.percentile(ms, [50, 95, 99])
    print(f"{backend}, {args.terminals} terminals, {len(results)} verifications in {wall:.2f} s "
          f"({workers} server process{'es' if workers > 1 else ''}); {load_average()}")
    print(f"  successes/s   {ok / wall:8.1f}   ({ok} codes consumed, of {len(seeded['codes'])})")
    print(f"  rejections/s  {rejected / wall:8.1f}   ({outcome[('wrong', 404, 'voucher_not_found')]} wrong, "
          f"{outcome[('used', 409, 'voucher_used_up')]} used)")
    print(f"  latency ms    p50 {p[0]:7.1f}   p95 {p[1]:7.1f}   p99 {p[2]:7.1f}   "
          f"(successes only: p99 {np.percentile(ok_ms, 99):7.1f})")
    print(f"  database: {exact}")
    rate = bare_updates(settings, seeded["anchors"], args.bare, args.terminals)
    print(f"  anchor: bare conditional UPDATE of a voucher, {args.terminals} threads: {rate:,.0f}/s "
          f"(verifications: {ok / wall / rate:.0%} of it); {load_average()}")


if __name__ == "__main__":
    main_guard(main)
