"""Buying over HTTP: order -> pay with the sandbox -> its notification applied -> the voucher issued, by 16
shoppers at once against a real server, beside the same server's `GET /api/v1/health` in the same run.

    flock /tmp/bench.lock .venv/bin/python bench/orders.py
    flock /tmp/bench.lock .venv/bin/python bench/orders.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench_orders

The database is made afresh and migrated; one merchant with one store and one service item, and `--shoppers`
consumers with bearer tokens, are made through the services. A real server (`uvicorn daodian.asgi:app`,
`--workers` processes as deployed: SQLite 1, PostgreSQL 2) then serves wrk (a C client; one thread and one
keep-alive connection per shopper, bench/orders.lua), each shopper buying `--orders` orders one after another:
`POST /orders` (one unit, an Idempotency-Key), `POST /orders/{id}/pay` with the sandbox (a key), and the
sandbox's signed notification to `POST /payments/notify/sandbox` (the server is given the sandbox secret, as
the sandbox's notifier has it). An order counts when its notification was answered 200: the order is paid
and its voucher issued in that transaction. The anchor is `GET /api/v1/health` (a sync route with a database
read) from 16 wrk connections for `--anchor-seconds` on the same server, just before.

Then the books: every order of the run is `voucher_issued`, with exactly one payment (succeeded) and one
voucher, and the money adds up (tests/payments/reconcile.py). A shopper whose step was not answered as
expected, wrk's socket errors, a server that died or books that do not balance end the run with the reason
on stderr and exit status 1: no rate is printed.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the seed uses the test factories, the check the tests' books

from bench.harness import (  # noqa: E402
    BenchFailed,
    deployed_workers,
    load_average,
    main_guard,
    migrated_database,
    running_server,
    server_command,
    wrk_binary,
    wrk_until,
)
from tests.factories import make_shop, make_user, token_for  # noqa: E402
from tests.payments.reconcile import assert_books_balance  # noqa: E402

from daodian import bootstrap  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.orders.models import Order, OrderStatus  # noqa: E402
from daodian.payments.models import Payment, PaymentStatus  # noqa: E402
from daodian.vouchers.models import Voucher  # noqa: E402

LUA = ROOT / "bench" / "orders.lua"
SANDBOX_SECRET = "bench-sandbox-secret"  # the server's DAODIAN_SANDBOX_SECRET, so the bench signs as the sandbox
ITEM_PRICE_FEN = 19900


def seed(settings: Settings, shoppers: int) -> dict:
    with unit_of_work(make_session_factory(create_db_engine(settings))) as session:
        shop = make_shop(session, name="下单压测车行", item_price_fen=ITEM_PRICE_FEN)
        tokens = [token_for(session, make_user(session, name="顾客")) for _ in range(shoppers)]
        return {"merchant_id": shop.merchant.id, "item_id": shop.item.id, "tokens": tokens}


def health_rate(url: str, seconds: int) -> float:
    output = subprocess.run([wrk_binary(), "-t2", "-c16", f"-d{seconds}s", "--timeout", "30s", f"{url}/api/v1/health"],
                            capture_output=True, text=True).stdout
    if "Socket errors" in output or "Non-2xx" in output or "Requests/sec:" not in output:
        raise BenchFailed(f"GET /api/v1/health did not answer cleanly:\n{output}")
    return float(next(line for line in output.splitlines() if line.startswith("Requests/sec:")).split()[1])


def buy_over_http(url: str, seeded: dict, orders: int) -> dict:
    shoppers = len(seeded["tokens"])
    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp:
        folder = Path(tmp)
        (folder / "tokens").write_text("".join(f"{token}\n" for token in seeded["tokens"]))
        done = [folder / f"shopper-{n}" for n in range(shoppers)]
        command = [wrk_binary(), f"-t{shoppers}", f"-c{shoppers}", "-d3600s", "--timeout", "30s", "-s", str(LUA), url,
                   "--", str(folder), str(orders), str(seeded["item_id"]), SANDBOX_SECRET]
        wrk_until(command, lambda: all(path.exists() for path in done), timeout_s=300)
        steps, bought, firsts, lasts = Counter(), [], [], []
        short = {}
        for n, path in enumerate(done):
            mine = 0
            for line in path.read_text().splitlines():
                kind, *rest = line.split()
                if kind == "first":
                    firsts.append(float(rest[0]))
                elif kind == "last":
                    lasts.append(float(rest[0]))
                elif kind == "bought":
                    bought.append(float(rest[0]))
                    mine += 1
                else:
                    steps[(kind, int(rest[0]))] += 1
            if mine != orders:
                short[f"shopper {n}"] = mine
    if short:
        raise BenchFailed(f"shoppers stopped short of {orders} orders: {short}; answers by step: {dict(steps)}")
    return {"steps": steps, "order_ms": bought, "wall": (max(lasts) - min(firsts)) / 1000}


def check_books(settings: Settings, merchant_id: int, expected: int) -> str:
    """Every order paid once, with its voucher; the books balance. Fails the run otherwise."""
    engine = create_db_engine(settings)
    factory = make_session_factory(engine)
    with unit_of_work(factory, read_only=True) as session:
        orders = dict(session.execute(select(Order.status, func.count()).where(Order.merchant_id == merchant_id)
                                      .group_by(Order.status)).all())
        per_order = select(Payment.order_id).join(Order, Order.id == Payment.order_id).where(
            Order.merchant_id == merchant_id)
        payments = dict(session.execute(select(Payment.status, func.count()).where(Payment.order_id.in_(per_order))
                                        .group_by(Payment.status)).all())
        twice = session.scalar(select(func.count()).select_from(
            select(Payment.order_id).where(Payment.order_id.in_(per_order), Payment.status == PaymentStatus.SUCCEEDED)
            .group_by(Payment.order_id).having(func.count() != 1).subquery()))
        vouchers = session.scalar(select(func.count(Voucher.id)).where(Voucher.merchant_id == merchant_id))
        voucherless = session.scalar(select(func.count(Order.id)).where(
            Order.merchant_id == merchant_id, ~Order.id.in_(select(Voucher.order_id))))
        try:
            books = assert_books_balance(session, {merchant_id})
        except AssertionError as exc:
            raise BenchFailed(f"the books do not balance: {exc}") from exc
    engine.dispose()
    if (orders != {OrderStatus.VOUCHER_ISSUED: expected} or payments != {PaymentStatus.SUCCEEDED: expected}
            or twice or vouchers != expected or voucherless or books.payments_fen != expected * ITEM_PRICE_FEN):
        raise BenchFailed(f"orders by status {orders}, payments by status {payments}, {twice} orders paid other than "
                          f"once, {vouchers} vouchers, {voucherless} orders without one, "
                          f"{books.payments_fen} fen paid (expected {expected} of each, {expected * ITEM_PRICE_FEN} fen)")
    return (f"{expected} orders voucher_issued, each paid once ({books.payments_fen:,} fen) with its voucher; "
            f"books balance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'orders.sqlite3'}")
    parser.add_argument("--shoppers", type=int, default=16)
    parser.add_argument("--orders", type=int, default=150, help="orders per shopper")
    parser.add_argument("--anchor-seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None,
                        help="server processes; default as deployed: SQLite 1, PostgreSQL 2")
    args = parser.parse_args()

    wrk_binary()
    bootstrap.wire()
    settings = migrated_database(args.database_url)
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    workers = deployed_workers(settings, args.workers)
    seeded = seed(settings, args.shoppers)
    expected = args.shoppers * args.orders
    print(f"{backend}: {args.shoppers} shoppers x {args.orders} orders; server: "
          f"{' '.join(server_command(0, workers)[1:])} (port aside); {load_average()}")
    # No webhook worker (none is subscribed here): on SQLite it writes outside the server's write turn.
    with running_server(args.database_url, workers, {"DAODIAN_SANDBOX_SECRET": SANDBOX_SECRET,
                                                     "DAODIAN_WEBHOOK_WORKER": "false"}) as url:
        anchor = health_rate(url, args.anchor_seconds)
        started = time.perf_counter()
        run = buy_over_http(url, seeded, args.orders)
    books = check_books(settings, seeded["merchant_id"], expected)
    unexpected = {k: n for k, n in run["steps"].items() if k not in {("order", 201), ("pay", 201), ("notify", 200)}}
    if unexpected:
        raise BenchFailed(f"unexpected answers (step, status): {unexpected}")
    rate = expected / run["wall"]
    p = np.percentile(run["order_ms"], [50, 95, 99])
    print(f"{backend}, {args.shoppers} shoppers, {expected} orders in {run['wall']:.2f} s "
          f"(wall with wrk {time.perf_counter() - started:.1f} s); {load_average()}")
    print(f"  orders/s      {rate:8.1f}   (each: order 201, pay 201, notify 200: {3 * rate:,.0f} requests/s)")
    print(f"  per order ms  p50 {p[0]:7.1f}   p95 {p[1]:7.1f}   p99 {p[2]:7.1f}   (the three requests)")
    print(f"  database: {books}")
    print(f"  anchor: GET /api/v1/health on the same server, 16 connections: {anchor:,.0f}/s "
          f"(order requests: {3 * rate / anchor:.0%} of it)")


if __name__ == "__main__":
    main_guard(main)
