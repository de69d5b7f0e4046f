"""Coupon claims over HTTP: successes/s while stock lasts, rejections/s after the sell-out, beside a
bare conditional UPDATE on the same database in the same run.

    .venv/bin/python bench/coupon_claims.py --database-url sqlite:///var/bench/coupons.sqlite3
    .venv/bin/python bench/coupon_claims.py --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench

The database is migrated (a SQLite file is made anew), then one merchant, the templates and `--consumers`
consumers with bearer tokens are inserted. A real server (uvicorn with `--workers` processes, as `daodian
serve --workers N`) serves `POST /api/v1/coupons/{id}/claims`; wrk (a C load generator: a Python client
would take most of the 2 shared cores itself) keeps `--clients` keep-alive connections busy for
`--seconds` per phase, every request a claim by the next consumer (bench/claims.lua):
  1. a template of `--stock` coupons that lasts the whole phase: successes/s;
  2. a template of 100 coupons, sold out first by claims over HTTP, then claimed by the other half of the
     consumers: rejections/s.
Each phase runs twice, with other consumers: as the crowd comes (the claim's fast path,
coupons.claim_fast_path, answers) and with `?through=route`, which the fast path passes by, so the FastAPI
route answers through the shared request path. The fast path stays only while it answers 2x the route or
more (issue 15); both rates and their ratio are printed.
The database is then checked: as many coupons as 201s, each to a different consumer, stock + coupons =
quantity. Then `--bare` bare transactions of one `UPDATE coupon_stock SET remaining = remaining - 1 WHERE
... AND remaining > 0` run from `--clients` threads of this process: on one row (a single counter, as
claims had before coupons.stock), on random rows of a template's slots, and on the sold-out row. On SQLite
the threads take turns at writing (one lock in this process, as the server's write turn): 32 threads
queueing on SQLite's own busy timeout died with "database is locked".

No rate is printed from a run that failed: a worker thread that raised, wrk's socket errors, an answer
other than 201 and the expected refusals (a 5xx, a 503 `database_busy`), a server that died, or a database
that does not add up end the run with the reason on stderr and exit status 1 (bench/harness.py).
"""

import argparse
import hashlib
import json
import random
import secrets
import subprocess
import sys
import tempfile
import threading
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SELL_OUT_STOCK = 100  # the template that is sold out before the rejections are measured
# What a claim may answer in this run; anything else (a 5xx, 503 database_busy, 401...) voids it.
EXPECTED = {"201", "409 coupon_sold_out", "409 coupon_limit_reached"}

from bench.harness import (  # noqa: E402
    BenchFailed,
    deployed_workers,
    in_threads,
    load_average,
    main_guard,
    migrated_database,
    running_server,
    server_command,
    wrk_binary,
)

from daodian.accounts.models import AuthSession, User  # noqa: E402
from daodian.coupons import stock as coupon_stock  # noqa: E402
from daodian.coupons.models import Coupon, CouponStock, CouponTemplate  # noqa: E402
from daodian.kit.clock import utcnow  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.merchants.models import Merchant, MerchantStatus  # noqa: E402


def seed(settings: Settings, stock: int, consumers: int, bare: int) -> dict:
    """The templates (for claims while stock lasts, one to sell out, two for the bare UPDATEs) and the
    consumers' bearer tokens."""
    now = utcnow()
    with unit_of_work(make_session_factory(create_db_engine(settings))) as session:
        owner = User(phone="+8613000000000", display_name="老板", password_hash="x", is_operator=False,
                     is_active=True, failed_logins=0, created_at=now)
        session.add(owner)
        session.flush()
        merchant = Merchant(name="压测商户", status=MerchantStatus.ACTIVE)
        session.add(merchant)
        session.flush()
        templates = {}
        for name, quantity in (("lasting", stock), ("sold_out", SELL_OUT_STOCK), ("bare_one_row", bare),
                               ("bare_slots", 2 * bare)):  # twice: random slots empty unevenly
            template = CouponTemplate(
                merchant_id=merchant.id, name=name, kind="amount", threshold_fen=0, amount_fen=500, scope="merchant",
                scope_values=[], stacking="exclusive", claim_starts_at=now - timedelta(minutes=1),
                claim_ends_at=now + timedelta(days=1), valid_days=7, total_quantity=quantity, per_user_limit=1,
                public=True, created_by=owner.id)
            session.add(template)
            session.flush()
            if name == "bare_one_row":  # the design claims had before coupons.stock: one counter row
                session.add(CouponStock(template_id=template.id, slot=0, remaining=quantity))
            else:
                coupon_stock.fill(session, template.id, quantity)
            templates[name] = template.id
        phones = [f"+86170{i:08d}" for i in range(consumers)]
        session.execute(insert(User), [{"phone": p, "display_name": "顾客", "password_hash": "x", "is_operator": False,
                                        "is_active": True, "failed_logins": 0, "created_at": now} for p in phones])
        ids = dict(session.execute(select(User.phone, User.id).where(User.phone.like("+86170%"))).all())
        tokens = [secrets.token_urlsafe(24) for _ in phones]
        session.execute(insert(AuthSession), [
            {"token_hash": hashlib.sha256(t.encode()).hexdigest(), "user_id": ids[p], "kind": "bearer",
             "created_at": now, "expires_at": now + timedelta(days=1)} for p, t in zip(phones, tokens, strict=True)])
    return {**templates, "tokens": tokens}


def wrk(url: str, seconds: int, clients: int, threads: int, tokens: list[str] | None = None) -> dict:
    """Run wrk for `seconds` with `clients` keep-alive connections; with tokens, every request is a claim
    by the next consumer (bench/claims.lua) and the result counts responses by status and error code."""
    command = [wrk_binary(), f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s"]
    if tokens is None:
        output = _run_wrk([*command, url])
        if "Non-2xx or 3xx responses" in output:
            raise BenchFailed(f"{url} answered errors:\n{output}")
        rate = next(line for line in output.splitlines() if line.startswith("Requests/sec:"))
        return {"rate": float(rate.split()[1])}
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as file:
        file.write("\n".join(tokens) + "\n")
        file.flush()
        output = _run_wrk([*command, "-s", str(ROOT / "bench" / "claims.lua"), url, "--", file.name, str(threads)])
    result = json.loads(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])
    unexpected = {key: n for key, n in result["counts"].items() if key not in EXPECTED}
    if result["socket_errors"] or unexpected:
        raise BenchFailed(f"claims at {url}: {result['socket_errors']} socket errors, unexpected answers {unexpected}")
    return result


def _run_wrk(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or "Socket errors" in done.stdout:
        raise BenchFailed(f"wrk failed (exit status {done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def describe(result: dict) -> str:
    counts = ", ".join(f"{key}: {n:,}" for key, n in sorted(result["counts"].items()))
    reuse = f", tokens reused {result['token_reuse']}x" if result["token_reuse"] else ""
    return (f"{counts} in {result['seconds']:.1f}s (p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"
            f"{reuse})")


def count(result: dict, prefix: str) -> int:
    return sum(n for key, n in result["counts"].items() if key.startswith(prefix))


def held_coupons(settings: Settings, template_id: int) -> tuple[int, int, int]:
    """(coupons of the template, distinct holders, stock left) as the database has them."""
    engine = create_db_engine(settings)
    with engine.connect() as conn:
        coupons, holders = conn.execute(select(func.count(), func.count(Coupon.consumer_id.distinct()))
                                        .where(Coupon.template_id == template_id)).one()
        left = conn.scalar(select(func.sum(CouponStock.remaining)).where(CouponStock.template_id == template_id))
    engine.dispose()
    return coupons, holders, left


def bare_updates(settings: Settings, template_id: int, count: int, clients: int, slots: int) -> float:
    """`count` bare transactions of one conditional UPDATE of a stock row (a random one of `slots`) from
    `clients` threads in this process; seconds taken. A thread that fails fails the run."""
    engine = create_db_engine(settings, pool_size=clients, max_overflow=0)
    per_client = count // clients
    table = CouponStock.__table__
    turn = threading.Lock() if settings.is_sqlite else nullcontext()  # SQLite: one writer, as the server's turn

    def client(_: int) -> None:
        for _ in range(per_client):
            with turn, engine.begin() as conn:
                conn.execute(update(table).where(table.c.template_id == template_id,
                                                 table.c.slot == random.randrange(slots), table.c.remaining > 0)
                             .values(remaining=table.c.remaining - 1))

    elapsed = in_threads(clients, client)
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'coupons.sqlite3'}")
    parser.add_argument("--seconds", type=int, default=10, help="length of each HTTP phase")
    parser.add_argument("--stock", type=int, default=100_000, help="coupons of the template claimed while it lasts")
    parser.add_argument("--consumers", type=int, default=200_000, help="distinct consumers (bearer tokens)")
    parser.add_argument("--bare", type=int, default=20_000, help="bare UPDATE transactions per case")
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP connections")
    parser.add_argument("--client-threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=None,
                        help="server processes (uvicorn --workers); default as deployed: SQLite, the embedded "
                             "default, 1 (ARCHITECTURE.md); PostgreSQL 2")
    args = parser.parse_args()

    wrk_binary()
    backend = make_url(args.database_url).get_backend_name()
    settings = migrated_database(args.database_url)
    args.workers = deployed_workers(settings, args.workers)
    seeded = seed(settings, args.stock, args.consumers, args.bare)
    tokens = seeded["tokens"]
    half = len(tokens) // 2  # the first half claim while stock lasts, the second after the sell-out
    quarter = half // 2  # of the first half: the fast path's claims, then the route's
    print(f"{backend}: {args.stock:,} coupons, {args.consumers:,} consumers, {args.clients} connections from wrk "
          f"({args.client_threads} threads), {args.seconds:g}s per phase; {load_average()}")
    print(f"  server: {' '.join(server_command(0, args.workers)[1:])} (port aside)")
    with running_server(settings.database_url, args.workers) as url:
        health = wrk(f"{url}/api/v1/health", args.seconds, args.clients, args.client_threads)
        lasting = wrk(f"{url}/api/v1/coupons/{seeded['lasting']}/claims", args.seconds, args.clients,
                      args.client_threads, tokens[:quarter])
        # A query string passes the fast path by (coupons.claim_fast_path): the documented FastAPI route
        # answers, through the shared request path; it ignores a parameter it does not know.
        lasting_route = wrk(f"{url}/api/v1/coupons/{seeded['lasting']}/claims?through=route", args.seconds,
                            args.clients, args.client_threads, tokens[quarter:half])
        sell_out = tokens[half:half + SELL_OUT_STOCK + args.clients]
        wrk(f"{url}/api/v1/coupons/{seeded['sold_out']}/claims", 1, args.clients, args.client_threads, sell_out)
        after = tokens[half + len(sell_out):]
        sold_out = wrk(f"{url}/api/v1/coupons/{seeded['sold_out']}/claims", args.seconds, args.clients,
                       args.client_threads, after[:len(after) // 2])
        sold_out_route = wrk(f"{url}/api/v1/coupons/{seeded['sold_out']}/claims?through=route", args.seconds,
                             args.clients, args.client_threads, after[len(after) // 2:])
    coupons, holders, left = held_coupons(settings, seeded["lasting"])
    # wrk stops at the deadline: the claims then in flight are made, their 201s never counted (<= clients)
    answered = count(lasting, "201") + count(lasting_route, "201")
    in_flight = coupons - answered
    if not (coupons == holders and coupons + left == args.stock and 0 <= in_flight <= 2 * args.clients):
        raise BenchFailed(f"database: {coupons:,} coupons to {holders:,} consumers, {left:,} left of {args.stock:,}, "
                          f"{answered:,} answered 201 (MISMATCH)")
    sold_coupons, sold_holders, sold_left = held_coupons(settings, seeded["sold_out"])
    if not (sold_coupons == sold_holders == SELL_OUT_STOCK and sold_left == 0):
        raise BenchFailed(f"sold-out template: {sold_coupons} coupons to {sold_holders} consumers, {sold_left} left "
                          f"of {SELL_OUT_STOCK} (MISMATCH)")
    bare = {}
    for name, slots in (("bare_one_row", 1), ("bare_slots", coupon_stock.SLOTS)):
        bare[name] = args.bare / bare_updates(settings, seeded[name], args.bare, args.clients, slots)
    bare["sold_out"] = args.bare / bare_updates(settings, seeded["bare_one_row"], args.bare, args.clients, 1)
    print(f"  GET /api/v1/health (a sync route with a database read): {health['rate']:,.0f}/s")
    successes = {leg: count(r, "201") / r["seconds"] for leg, r in (("fast", lasting), ("route", lasting_route))}
    refusals = {leg: count(r, "409 coupon_sold_out") / r["seconds"]
                for leg, r in (("fast", sold_out), ("route", sold_out_route))}
    print(f"  claims while stock lasts: {describe(lasting)}")
    print(f"    = {successes['fast']:,.0f} successes/s")
    print(f"  the same through the route (?through=route): {describe(lasting_route)}")
    print(f"    = {successes['route']:,.0f} successes/s (the fast path answers {successes['fast'] / successes['route']:.2f}x)")
    print(f"  claims after the sell-out: {describe(sold_out)}")
    print(f"    = {refusals['fast']:,.0f} rejections/s")
    print(f"  the same through the route: {describe(sold_out_route)}")
    print(f"    = {refusals['route']:,.0f} rejections/s (the fast path answers {refusals['fast'] / refusals['route']:.2f}x)")
    print(f"  database: {coupons:,} coupons to {holders:,} consumers ({in_flight} answered after wrk stopped), "
          f"{left:,} left of {args.stock:,} (exact)")
    print(f"  sold-out template: {sold_coupons} coupons to {sold_holders} consumers, {sold_left} left of "
          f"{SELL_OUT_STOCK}")
    print(f"  bare conditional UPDATE of one stock row, stock lasting: {bare['bare_one_row']:,.0f}/s")
    print(f"  bare conditional UPDATE of a random one of {coupon_stock.SLOTS} stock rows, stock lasting: "
          f"{bare['bare_slots']:,.0f}/s")
    print(f"  bare conditional UPDATE, sold out:  {bare['sold_out']:,.0f}/s; {load_average()}")


if __name__ == "__main__":
    main_guard(main)
