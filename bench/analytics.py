"""Analytics at scale: 10,000,000 facts, the dashboard queries on DuckDB, the full job on Spark local, and the
export's throughput.

    .venv/bin/python bench/analytics.py                      # 10M facts under var/bench/analytics
    .venv/bin/python bench/analytics.py --facts 1000000 --no-spark

Three measurements, each printed as it finishes:
1. generate `--facts` facts straight into the export's Parquet layout (facts/ and lines/ partitioned by
   merchant bucket and month, written by the export's own writer, a manifest with the watermark), vectorised with numpy, seeded. Receipts with 1-3 lines, paid online
   orders (some refunded), coupons pushed or claimed and redeemed at checkout or at the counter, follows,
   points and reviews, over two years, for `--merchants` merchants whose sizes follow Zipf's law (so there are
   a few very big merchants and a long tail) and `--members` consumers. Payload JSON is left empty ("{}"):
   no query reads it. Writing the facts through the database first would measure the database, which (3)
   does on its own;
2. DuckDB (the default engine, in process): each query a merchant dashboard runs, for the biggest merchant,
   the one at the 90th percentile and the median one, then the same through the privacy guard (the
   protected table the dashboard shows); the operator's queries; target <= 1 s each. Then Spark local
   (`local[2]`): the whole `daodian facts job` (RFM for every member of every merchant, the sales cube of every
   big merchant -- the pre-aggregates the dashboards read, analytics.marts -- and the operator reports) over the
   same Parquet. The first load of a whole dashboard after the job, over HTTP in a fresh server (with the
   tables the job prepares for the big merchants, analytics.prepared): bench/dashboard_first_load.py, which
   reuses these 10M facts;
3. export throughput: `--export-facts` facts appended to a scratch SQLite database through the outbox table,
   then `export_facts` (facts/s, the figure `daodian facts export` prints).
"""

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]

from daodian import migrate  # noqa: E402
from daodian.analytics import marts, rfm, tables  # noqa: E402
from daodian.analytics.engines import open_engine  # noqa: E402
from daodian.analytics.engines.duckdb_engine import DuckDBEngine  # noqa: E402
from daodian.analytics.export import FACTS_SCHEMA, LINES_SCHEMA, Manifest, export_facts, publish, write_partitioned  # noqa: E402
from daodian.analytics.service import OPERATOR_REPORTS  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.facts import Fact  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402

START = datetime(2023, 1, 1, tzinfo=UTC)
DAYS = 730
K = 10
# Event groups and the facts each writes: receipt 1, order 2 (+1 refunded), coupon 1 (+1 used, +1 restored),
# follow 1, points 1, review 1. Shares of groups:
GROUPS = {"receipt": 0.50, "order": 0.12, "coupon": 0.20, "follow": 0.05, "points": 0.08, "review": 0.05}


def _zipf_weights(n: int) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1)
    return w / w.sum()


def generate(out: Path, n_facts: int, merchants: int, members: int, seed: int) -> dict:
    """Write about `n_facts` facts as Parquet under `out`; returns counts."""
    shutil.rmtree(out, ignore_errors=True)
    rng = np.random.default_rng(seed)
    weights = _zipf_weights(merchants)
    per_group = 1 + GROUPS["order"] * 1.1 + GROUPS["coupon"] * 0.6  # facts per group, on average (roughly)
    n_groups = int(n_facts / per_group)
    chunks = 10
    next_id, total_facts, total_lines = 1, 0, 0
    for c in range(chunks):
        table, lines, _, _, _ = _chunk(rng, c, chunks, n_groups // chunks, next_id, weights,
                                                            merchants, members)
        first = next_id
        next_id += table.num_rows
        # the export's own writer: the same layout (merchant bucket x month, sorted by merchant)
        last = next_id - 1
        publish(write_partitioned(out / "facts", table, first, last) + write_partitioned(out / "lines", lines, first,
                                                                                         last))
        total_facts += table.num_rows
        total_lines += lines.num_rows
        print(f"  generated chunk {c + 1}/{chunks}: {total_facts:,} facts, {total_lines:,} lines", flush=True)
    Manifest(watermark=next_id - 1, facts=total_facts, lines=total_lines).write(out)
    return {"facts": total_facts, "lines": total_lines}


def _chunk(rng, c: int, chunks: int, g: int, next_id: int, weights, merchants: int, members: int):
    """One tenth of the time span: `g` event groups -> (facts table, lines table, occurred, line rows, ids)."""
    day0 = c * DAYS // chunks
    span = DAYS // chunks
    at = START + timedelta(days=day0)
    seconds = np.sort(rng.integers(0, span * 86400, g))
    merchant = rng.choice(merchants, size=g, p=weights) + 1
    store = merchant * 10 + rng.integers(0, 3, g)
    member = rng.integers(1, members + 1, g)
    member = np.where(rng.random(g) < 0.75, member, 0)  # 0: anonymous
    group = rng.choice(len(GROUPS), size=g, p=np.array(list(GROUPS.values())) / sum(GROUPS.values()))
    kinds, cols = [], {n: [] for n in ("merchant", "store", "member", "sec", "order", "record", "coupon",
                                       "campaign", "amount", "channel", "place")}

    def add(mask, kind, *, sec_shift=0, order=None, record=None, coupon=None, campaign=None, amount=None,
            channel=None, place=None, store_on=True):
        idx = np.nonzero(mask)[0]
        n = len(idx)
        kinds.append(np.full(n, kind, dtype=object))
        cols["merchant"].append(merchant[idx])
        cols["store"].append(store[idx] if store_on else np.zeros(n, dtype=np.int64))
        cols["member"].append(member[idx] if kind.startswith(("consumption", "order")) else
                              np.where(member[idx] == 0, idx % members + 1, member[idx]))
        cols["sec"].append(seconds[idx] + sec_shift)
        for name, value in (("order", order), ("record", record), ("coupon", coupon), ("campaign", campaign),
                            ("amount", amount)):
            cols[name].append(np.zeros(n, dtype=np.int64) if value is None else value[idx])
        cols["channel"].append(np.full(n, channel, dtype=object))
        cols["place"].append(np.full(n, place, dtype=object))
        return idx

    ids = np.arange(g, dtype=np.int64) + c * 10_000_000 + 1  # record/order/coupon ids of this chunk's groups
    amount = rng.integers(5, 800, g) * 100
    receipt = group == 0
    add(receipt, "consumption.recorded", record=ids, amount=amount)
    order = group == 1
    add(order, "order.created", order=ids, amount=amount, store_on=True)
    discounted = amount - np.where(rng.random(g) < 0.3, 500, 0)
    add(order, "order.paid", sec_shift=180, order=ids, amount=discounted)
    add(order & (rng.random(g) < 0.08), "order.refunded", sec_shift=86400, order=ids, amount=discounted)
    coupon = group == 2
    campaign = merchant * 100 + rng.integers(1, 6, g)
    pushed = rng.random(g) < 0.3
    add(coupon & pushed, "coupon.issued", coupon=ids, campaign=campaign, channel="campaign", store_on=False)
    add(coupon & ~pushed, "coupon.claimed", coupon=ids, campaign=campaign, channel="online", store_on=False)
    used = coupon & (rng.random(g) < 0.5)
    add(used, "coupon.used", sec_shift=3600, coupon=ids, campaign=campaign, amount=amount, place="counter")
    add(used & (rng.random(g) < 0.05), "coupon.restored", sec_shift=7200, coupon=ids, campaign=campaign,
        store_on=False)
    add(group == 3, "follow.created", store_on=False)
    add(group == 4, "points.entry", store_on=False)
    add(group == 5, "review.created", store_on=False)

    kind = np.concatenate(kinds)
    merged = {name: np.concatenate(values) for name, values in cols.items()}
    order_by = np.argsort(merged["sec"], kind="stable")
    kind = kind[order_by]
    merged = {name: values[order_by] for name, values in merged.items()}
    n = len(kind)
    fact_id = np.arange(next_id, next_id + n, dtype=np.int64)
    occurred = np.datetime64(at.replace(tzinfo=None), "us") + merged["sec"].astype("timedelta64[s]")
    local = (occurred + np.timedelta64(8, "h")).astype("datetime64[D]")  # Asia/Shanghai
    member_col = pa.array(merged["member"], pa.int64(), mask=merged["member"] == 0)
    store_col = pa.array(merged["store"], pa.int64(), mask=merged["store"] == 0)

    def nullable(values):
        return pa.array(values, pa.int64(), mask=values == 0)

    facts = {"fact_id": fact_id, "kind": pa.array(kind, pa.string()),
             "occurred_at": pa.array(occurred, pa.timestamp("us", tz="UTC")), "local_date": local,
             "recorded_at": pa.array(occurred, pa.timestamp("us", tz="UTC")), "merchant_id": merged["merchant"],
             "store_id": store_col, "consumer_id": member_col, "order_id": nullable(merged["order"]),
             "record_id": nullable(merged["record"]), "coupon_id": nullable(merged["coupon"]),
             "campaign_id": nullable(merged["campaign"]), "amount_fen": nullable(merged["amount"]),
             "channel": pa.array(merged["channel"], pa.string()), "place": pa.array(merged["place"], pa.string()),
             "payload": pa.array(np.full(n, "{}", dtype=object), pa.string())}
    table = pa.table({name: facts.get(name, pa.nulls(n, type_)) for name, type_ in
                      zip(FACTS_SCHEMA.names, FACTS_SCHEMA.types)}, schema=FACTS_SCHEMA)
    # Lines: receipts 1-3 lines splitting the amount, orders 1 line; SKUs 1..40 of the merchant.
    with_lines = np.nonzero(np.isin(kind, ["consumption.recorded", "order.created"]))[0]
    counts = np.where(kind[with_lines] == "order.created", 1, rng.integers(1, 4, len(with_lines)))
    rows = np.repeat(with_lines, counts)
    line_no = np.concatenate([np.arange(k) for k in counts]) if len(counts) else np.array([], dtype=np.int64)
    split = merged["amount"][rows] // np.repeat(counts, counts)
    sku = merged["merchant"][rows] * 1000 + rng.integers(1, 41, len(rows))
    lines = pa.table({
        "fact_id": fact_id[rows], "line_no": line_no, "kind": pa.array(kind[rows], pa.string()),
        "occurred_at": pa.array(occurred[rows], pa.timestamp("us", tz="UTC")), "local_date": local[rows],
        "merchant_id": merged["merchant"][rows], "store_id": store_col.take(pa.array(rows)),
        "consumer_id": member_col.take(pa.array(rows)), "order_id": nullable(merged["order"][rows]),
        "record_id": nullable(merged["record"][rows]), "item_type": pa.array(np.full(len(rows), "sku"), pa.string()),
        "item_id": sku, "quantity": rng.integers(1, 4, len(rows)), "amount_fen": split,
        "currency": pa.array(np.full(len(rows), "CNY"), pa.string())}, schema=LINES_SCHEMA)
    return table, lines, occurred, rows, fact_id


def _timed(label: str, fn, figures: dict):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    figures[label] = round(seconds, 3)
    print(f"  {label:<48} {seconds:8.3f} s" + ("" if seconds <= 1 else "   (over 1 s)"), flush=True)
    return result


def bench_duckdb(out: Path, figures: dict, materialize: bool | None) -> None:
    shutil.rmtree(out / marts.DIRECTORY, ignore_errors=True)  # live figures first: no pre-aggregates of a past run
    how = {None: "as configured", True: "loaded into memory", False: "views over the Parquet"}[materialize]
    engine = _timed("duckdb: open (reads the manifest only)", lambda: DuckDBEngine(out, materialize=materialize),
                    figures)
    # A merchant's size is the rows its dashboard scans, facts and lines (analytics.marts.BIG_MERCHANT_FACTS).
    sizes = _timed(f"duckdb: first query across merchants (the whole export, {how})", lambda: engine.sql(
        "SELECT merchant_id, COUNT(*) AS n FROM (SELECT merchant_id FROM facts UNION ALL SELECT merchant_id "
        "FROM lines) s GROUP BY merchant_id ORDER BY n DESC, merchant_id"), figures)
    picks = {"biggest": 0, "p90": len(sizes) // 10, "median": len(sizes) // 2}
    as_of, thresholds = date(2025, 1, 1), rfm.Thresholds()
    for label, position in picks.items():
        m, n = int(sizes["merchant_id"][position]), int(sizes["n"][position])
        print(f" merchant {m} ({label}, {n:,} rows of facts and lines)", flush=True)
        for name, params in (("sales_cube", {"merchant_id": m}), ("coupon_funnel", {"merchant_id": m}),
                             ("coupon_attribution", {"merchant_id": m}),
                             ("follow_attribution", {"merchant_id": m, "window_days": 30}),
                             ("retention", {"merchant_id": m}), ("rfm", thresholds.params(as_of, m))):
            _timed(f"duckdb {label}: {name}", lambda q=name, p=params: engine.run(q, p), figures)
        for name, build in (("sales", lambda m=m: tables.sales(engine, m, K)),
                            ("funnel", lambda m=m: tables.funnel(engine, m, K)),
                            ("retention", lambda m=m: tables.retention(engine, m, K)),
                            ("segments", lambda m=m: tables.segments(engine, m, K, as_of, thresholds))):
            _timed(f"duckdb {label}: protected {name} (query + guard)", build, figures)
    print(" operator", flush=True)
    for query in OPERATOR_REPORTS.values():
        _timed(f"duckdb operator: {query}", lambda q=query: engine.run(q), figures)
    _timed("duckdb job: rfm of every member of every merchant", lambda: engine.run("rfm", thresholds.params(as_of)),
           figures)
    print(" the job's pre-aggregates (analytics.marts), then the dashboards reading them", flush=True)
    big = marts.big_merchants(engine)
    _timed(f"duckdb job: sales_cube marts of the {len(big)} merchants of >= {marts.BIG_MERCHANT_FACTS:,} rows",
           lambda: marts.build_sales_cubes(engine, out, big), figures)
    for name, params in (("rfm", thresholds.params(as_of)), *((q, {}) for q in marts.WHOLE)):
        _timed(f"duckdb job: {name} mart", lambda q=name, p=params: marts.write(
            out, engine.watermark, q, p, engine.run(q, p)), figures)
    for label, position in picks.items():
        m = int(sizes["merchant_id"][position])
        for name, build in (("sales_cube", lambda m=m: engine.run("sales_cube", {"merchant_id": m})),
                            ("rfm", lambda m=m: engine.run("rfm", thresholds.params(as_of, m))),
                            ("protected sales", lambda m=m: tables.sales(engine, m, K)),
                            ("protected segments", lambda m=m: tables.segments(engine, m, K, as_of, thresholds))):
            _timed(f"duckdb {label} from mart: {name}", build, figures)
    for query in marts.WHOLE:
        _timed(f"duckdb operator from mart: {query}", lambda q=query: engine.run(q), figures)
    engine.close()


def bench_spark(out: Path, figures: dict) -> None:
    as_of, thresholds = date(2025, 1, 1), rfm.Thresholds()

    def job():
        shutil.rmtree(out / marts.DIRECTORY, ignore_errors=True)  # compute everything, read no earlier result
        engine = open_engine("spark", out)
        marts_dir = out / "spark"  # the job's marts, beside (not over) the ones the DuckDB run wrote
        big = marts.big_merchants(engine)
        _timed(f"spark job step: sales_cube marts of {len(big)} merchants",
               lambda: marts.build_sales_cubes(engine, marts_dir, big), figures)
        for step, query, params in (("rfm", "rfm", thresholds.params(as_of)),
                                    *((q, q, {}) for q in OPERATOR_REPORTS.values())):
            frame = _timed(f"spark job step: {step}", lambda q=query, p=params: engine.run(q, p), figures)
            if query in marts.MARTS:
                _timed(f"spark job step: write {step} mart ({len(frame):,} rows)",
                       lambda q=query, p=params, f=frame: marts.write(marts_dir, engine.watermark, q, p, f), figures)

    _timed("spark local[2]: the full job (session start, reads, every step)", job, figures)


def bench_export(database: Path, n: int, figures: dict) -> None:
    database.unlink(missing_ok=True)
    settings = Settings(env="dev", database_url=f"sqlite:///{database}")
    engine = create_db_engine(settings)
    migrate.upgrade(settings, engine)
    factory = make_session_factory(engine)
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n):
        at = START + timedelta(seconds=int(i * 60))
        lines = [{"sku_id": int(s), "service_item_id": None, "quantity": 1, "amount_fen": 1000}
                 for s in rng.integers(1, 40, 1 + i % 3)]
        rows.append({"kind": "consumption.recorded", "occurred_at": at, "recorded_at": at, "merchant_id": None,
                     "store_id": None, "consumer_id": None,
                     "payload": {"record_id": i, "receipt_id": f"R{i}", "total_fen": 1000 * len(lines),
                                 "currency": "CNY", "lines": lines}})
    with unit_of_work(factory) as session:
        for start in range(0, n, 20_000):
            session.execute(insert(Fact), rows[start:start + 20_000])
    out = database.parent / "export-facts"
    shutil.rmtree(out, ignore_errors=True)
    report = _timed(f"export: {n:,} facts from SQLite to Parquet", lambda: export_facts(factory, out), figures)
    figures["export facts/s"] = round(report.facts_per_second)
    print(f"  export throughput: {report.facts_per_second:,.0f} facts/s ({report.lines:,} lines, {report.files} files)")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", type=int, default=10_000_000)
    parser.add_argument("--merchants", type=int, default=2000)
    parser.add_argument("--members", type=int, default=500_000)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "analytics")
    parser.add_argument("--export-facts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--materialize", action=argparse.BooleanOptionalAction, default=None,
                        help="DuckDB: load the Parquet into memory first (default: only up to MATERIALIZE_BYTES).")
    parser.add_argument("--export-only", action="store_true", help="Only the export throughput.")
    parser.add_argument("--reuse", action="store_true", help="Keep Parquet generated by an earlier run.")
    args = parser.parse_args()
    figures: dict = {}
    facts_dir = args.out / "facts"
    if not args.export_only and not (args.reuse and (facts_dir / "_manifest.json").exists()):
        counts = _timed(f"generate {args.facts:,} facts as Parquet", lambda: generate(
            facts_dir, args.facts, args.merchants, args.members, args.seed), figures)
        figures |= counts
    if args.export_only:
        bench_export(args.out / "export.sqlite3", args.export_facts, figures)
        return
    bench_duckdb(facts_dir, figures, args.materialize)
    if not args.no_spark:
        bench_spark(facts_dir, figures)
    if args.export_facts:
        bench_export(args.out / "export.sqlite3", args.export_facts, figures)
    print(json.dumps(figures, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
