"""Nearby search at scale: index build time and memory, query latency, and how fast a change shows.

    .venv/bin/python bench/nearby.py --database-url sqlite:///var/bench/nearby-1m.sqlite3 --stores 1000000
    .venv/bin/python bench/nearby.py --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench

An empty database is migrated and filled first: by the demo city (`daodian demo`, package daodian.demo)
with `--source demo`, or by this script's own district-weighted generator (`--source own`, the
default: it depends on nothing but the schema). A database that already holds stores (e.g. made with
`daodian demo --stores 1000000`) is used as it is. Everything is seeded, so runs are reproducible.

Measured: (1) building the index in this process: time and resident memory; (2) `StoreIndex.search`
latency in process, for origins drawn around stores (so weighted to districts like the stores are),
radius 3 km, with and without a category filter; (3) a real server process (uvicorn): start-up time
including its own index build, HTTP latency of `GET /api/v1/stores/nearby` end to end, and the time
from a committed change (move a store next to the origin, close it) to its showing in that server.
"""

import argparse
import gc
import json
import os
import resource
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parents[1]

from daodian import migrate  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.merchants.models import Merchant, Store, StoreCategory  # noqa: E402
from daodian.nearby.index import StoreIndex  # noqa: E402
from daodian.taxonomy.models import ServiceCategory  # noqa: E402

SEED = 20160501
# (lat, lng WGS-84, sigma km, weight): Hangzhou's busy districts, roughly as the demo city has them.
DISTRICTS = [(30.2740, 120.1600, 0.9, 10), (30.2600, 120.1615, 0.8, 8), (30.2490, 120.2070, 1.0, 9),
             (30.2645, 120.1945, 0.9, 4), (30.2930, 120.2065, 1.2, 5), (30.2725, 120.1335, 1.0, 7),
             (30.2985, 120.1065, 1.2, 8), (30.2785, 120.0855, 1.4, 6), (30.3065, 120.1415, 1.1, 6),
             (30.2110, 120.2080, 1.3, 9), (30.1715, 120.2605, 1.8, 7), (30.3105, 120.3205, 1.8, 6),
             (30.4230, 120.2965, 1.8, 5), (30.2835, 120.0105, 1.6, 5)]
HOURS = ["[[1, 540, 1260], [2, 540, 1260], [3, 540, 1260], [4, 540, 1260], [5, 540, 1260], [6, 540, 1260], [7, 540, 1260]]",
         "[[1, 600, 1320], [2, 600, 1320], [3, 600, 1320], [4, 600, 1320], [5, 600, 1380], [6, 600, 1380], [7, 600, 1320]]",
         "[[1, 510, 1080], [2, 510, 1080], [3, 510, 1080], [4, 510, 1080], [5, 510, 1080], [6, 540, 1020]]",
         "[[1, 720, 1560], [2, 720, 1560], [3, 720, 1560], [4, 720, 1560], [5, 720, 1620], [6, 720, 1620], [7, 720, 1560]]",
         "[[1, 0, 1440], [2, 0, 1440], [3, 0, 1440], [4, 0, 1440], [5, 0, 1440], [6, 0, 1440], [7, 0, 1440]]",
         "[[1, 660, 840], [1, 1020, 1320], [2, 660, 840], [2, 1020, 1320], [3, 660, 840], [3, 1020, 1320], "
         "[4, 660, 840], [4, 1020, 1320], [5, 660, 840], [5, 1020, 1320], [6, 660, 1320], [7, 660, 1320]]"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stamp(dt: datetime, postgres: bool) -> str:
    return dt.isoformat() if postgres else dt.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def generate(engine, n: int) -> None:
    """Merchants (about four stores each), stores around districts, categories: straight into the tables."""
    rng = np.random.default_rng(SEED)
    with unit_of_work(make_session_factory(engine)) as session:
        leaves = session.execute(select(ServiceCategory.id, ServiceCategory.parent_id)
                                 .where(ServiceCategory.level == 2).order_by(ServiceCategory.id)).all()
    leaf_ids = np.array([leaf for leaf, _ in leaves])
    parent = np.array([p for _, p in leaves])
    leaf_weight = rng.uniform(0.3, 1.0, len(leaf_ids))
    m = max(n // 4, 1)
    owner = np.sort(rng.integers(1, m + 1, n))
    d = np.array(DISTRICTS)
    district = rng.choice(len(d), n, p=d[:, 3] / d[:, 3].sum())
    sigma_deg = d[district, 2] / 111.0
    lat = d[district, 0] + rng.normal(0, 1, n) * sigma_deg
    lng = d[district, 1] + rng.normal(0, 1, n) * sigma_deg / 0.864
    background = rng.random(n) < 0.06
    lat[background] = rng.uniform(30.15, 30.35, background.sum())
    lng[background] = rng.uniform(120.05, 120.35, background.sum())
    primary = rng.choice(len(leaf_ids), n, p=leaf_weight / leaf_weight.sum())
    status = np.array(["open", "paused", "closed"])[np.searchsorted([0.97, 0.99], rng.random(n), side="right")]
    rating = np.round(3.0 + 2.0 * rng.beta(5.0, 2.2, n), 1)
    count = np.minimum(np.exp(rng.normal(3.2, 1.3, n)).astype(np.int64) + 1, 20_000)
    popularity = (count * rng.uniform(0.05, 0.6, n)).astype(np.int64)
    hours = rng.integers(0, len(HOURS), n)
    with engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        now = stamp(datetime.now(UTC), pg)
        merchants = [(i, f"商户{i}", "", "active", now, now) for i in range(1, m + 1)]
        stores = [(i + 1, int(owner[i]), f"门店{i + 1}", f"杭州市{i % 97}路{i % 900}号", float(lat[i]), float(lng[i]),
                   float(lat[i]), float(lng[i]), "wgs84", "Asia/Shanghai", HOURS[hours[i]], "[]", str(status[i]),
                   int(leaf_ids[primary[i]]), float(rating[i]), int(count[i]), int(popularity[i]), now, now)
                  for i in range(n)]
        extra = rng.random(n) < 0.2  # a second service in the same group
        siblings = {p: leaf_ids[parent == p] for p in set(parent.tolist())}
        pairs = [(i + 1, int(leaf_ids[primary[i]])) for i in range(n)]
        for i in np.flatnonzero(extra).tolist():
            other = int(rng.choice(siblings[parent[primary[i]]]))
            if other != leaf_ids[primary[i]]:
                pairs.append((i + 1, other))
        write(conn, "merchants", ["id", "name", "description", "status", "created_at", "updated_at"], merchants)
        write(conn, "stores", ["id", "merchant_id", "name", "address", "lat", "lng", "input_lat", "input_lng",
                               "input_datum", "timezone", "hours", "closed_dates", "status", "primary_category_id",
                               "rating_avg", "rating_count", "popularity", "created_at", "updated_at"], stores)
        write(conn, "store_service_categories", ["store_id", "category_id"], pairs)
        if pg:
            for table in ("merchants", "stores"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def write(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
    else:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        for start in range(0, len(rows), 50_000):
            conn.exec_driver_sql(sql, rows[start:start + 50_000])


def fill(engine, settings: Settings, n: int, source: str) -> str:
    if source == "demo":
        from daodian.demo.generate import build_demo_city  # optional: the demo package is not needed otherwise

        with unit_of_work(make_session_factory(engine)) as session:
            build_demo_city(session, stores=n, seed=SEED)
        return "daodian demo"
    generate(engine, n)
    return "bench generator"


def percentiles(ms: list[float]) -> str:
    p = np.percentile(ms, [50, 95, 99])
    return f"{p[0]:7.2f} {p[1]:7.2f} {p[2]:7.2f}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'nearby-1m.sqlite3'}")
    parser.add_argument("--stores", type=int, default=1_000_000)
    parser.add_argument("--source", choices=["own", "demo"], default="own")
    parser.add_argument("--queries", type=int, default=2000, help="in-process queries per kind")
    parser.add_argument("--http-queries", type=int, default=300, help="HTTP queries per kind")
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args()

    settings = Settings(env="dev", database_url=args.database_url)
    engine = create_db_engine(settings)
    migrate.upgrade(settings, engine)
    rows = _Rows()
    with unit_of_work(make_session_factory(engine), read_only=True) as session:
        existing = session.scalar(select(func.count()).select_from(Store))
    if existing == 0:
        t = time.perf_counter()
        how = fill(engine, settings, args.stores, args.source)
        if engine.dialect.name == "postgresql":  # fresh statistics, or the planner scans where it should seek
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE merchants, stores, store_service_categories")
        rows.append((f"fill database ({how})", f"{time.perf_counter() - t:8.1f} s"))
    with unit_of_work(make_session_factory(engine), read_only=True) as session:
        n_stores = session.scalar(select(func.count()).select_from(Store))
        n_pairs = session.scalar(select(func.count()).select_from(StoreCategory))
        n_merchants = session.scalar(select(func.count()).select_from(Merchant))
        leaves = list(session.scalars(select(ServiceCategory.id).where(ServiceCategory.level == 2)))
        groups = {c.code: c.id for c in session.scalars(select(ServiceCategory).where(ServiceCategory.level == 1))}
        group_leaves = {g: list(session.scalars(select(ServiceCategory.id).where(ServiceCategory.parent_id == i)))
                        for g, i in groups.items()}
    rows.append(("database", f"{engine.dialect.name}: {n_stores:,} stores, {n_merchants:,} merchants, "
                             f"{n_pairs:,} store-category rows"))

    # (1) build in this process
    gc.collect()
    before = rss_mb()
    t = time.perf_counter()
    with unit_of_work(make_session_factory(engine), read_only=True) as session:
        index = StoreIndex.build(session)
    build_s = time.perf_counter() - t
    gc.collect()
    rows.append(("index build (in process)", f"{build_s:8.2f} s"))
    rows.append(("index memory (RSS growth / process peak)",
                 f"{rss_mb() - before:8.0f} MB / {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"))
    rows.append(("listed stores in index", f"{len(index.all):,} (+{len(index.by_category)} category indexes)"))

    rng = np.random.default_rng(SEED + 1)
    listed = np.flatnonzero(index.cols["listed"].array[: len(index)])
    listed_ids, listed_lat, listed_lng = (index.cols[c].array[listed].copy() for c in ("id", "lat", "lng"))

    def origins(k: int) -> list[tuple[float, float]]:
        """Around listed stores, 300 m off: weighted to districts as the stores are."""
        pick = rng.integers(0, len(listed), k)
        lat = listed_lat[pick] + rng.normal(0, 300 / 111_000, k)
        lng = listed_lng[pick] + rng.normal(0, 300 / 96_000, k)
        return list(zip(lat.tolist(), lng.tolist()))

    kinds = {
        "all categories": lambda: None,
        "one service (leaf)": lambda: [int(rng.choice(leaves))],
        "service group (level 1)": lambda: group_leaves[rng.choice(sorted(group_leaves))],
    }
    rows.append(("in-process search, radius 3 km, limit 20", "p50 / p95 / p99 ms, mean stores in radius"))
    with unit_of_work(make_session_factory(engine), read_only=True) as session:
        for kind, categories in kinds.items():
            for open_only in (False, True):
                times, matched = [], []
                for lat, lng in origins(args.queries):
                    cats = categories()
                    t = time.perf_counter()
                    result = index.search(lat, lng, 3000, category_ids=cats, open_only=open_only, limit=20)
                    times.append((time.perf_counter() - t) * 1000)
                    assert len(result.hits) <= 20
                    searched = [index.all] if cats is None else [index.by_category[c] for c in cats
                                                                 if c in index.by_category]
                    matched.append(sum(ix.count_within(lat, lng, 3000) for ix in searched))
                label = f"  {kind}{', open now' if open_only else ''}"
                rows.append((label, f"{percentiles(times)}  {np.mean(matched):9,.0f}"))
        t = time.perf_counter()
        for _ in range(20):
            index.refresh(session, force=True)
        rows.append(("freshness poll, nothing changed", f"{(time.perf_counter() - t) / 20 * 1000:8.2f} ms"))
    sample = rng.choice(len(listed), 3 * args.changes, replace=False)  # stores to change, each once
    sample_ids, sample_lat, sample_lng = listed_ids[sample], listed_lat[sample], listed_lng[sample]
    del index  # the server process builds its own
    gc.collect()

    # (3) a real server process
    port = free_port()
    env = {**os.environ, "DAODIAN_DATABASE_URL": args.database_url, "DAODIAN_ENV": "dev"}
    t = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "daodian.asgi:app", "--port", str(port),
                               "--log-level", "warning"], env=env, cwd=ROOT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30)
    try:
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            if server.poll() is not None or time.perf_counter() - t > 600:
                raise SystemExit("server did not start")
        rows.append(("server start-up incl. index build", f"{time.perf_counter() - t:8.2f} s"))
        client.get("/stores/nearby", params={"lat": 30.27, "lng": 120.16, "datum": "wgs84"})  # first-request warm-up
        rows.append(("HTTP GET /stores/nearby, radius 3 km", "p50 / p95 / p99 ms"))
        codes = {"all categories": None, "one service (leaf)": "auto_service.oil_change",
                 "service group (level 1)": "auto_service"}
        for kind, code in codes.items():
            times = []
            for lat, lng in origins(args.http_queries):
                params = {"lat": lat, "lng": lng, "datum": "wgs84", **({"service_category": code} if code else {})}
                t = time.perf_counter()
                response = client.get("/stores/nearby", params=params)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.text
            rows.append((f"  {kind}", percentiles(times)))
        rows.append(("change -> visible in the server", "p50 / p95 / max s"))
        for change in ("move next to origin", "re-rate", "close"):
            seen = []
            for k in range(args.changes):
                pick = len(seen) + args.changes * ("move next to origin", "re-rate", "close").index(change)
                store_id, lat, lng = int(sample_ids[pick]), float(sample_lat[pick]), float(sample_lng[pick])
                values = {"rating_avg": 5.0, "rating_count": 20_000}
                if change == "move next to origin":
                    lat, lng = 30.45 + 0.001 * k, 120.40  # a quiet corner, far from the districts
                    values = {"lat": lat, "lng": lng}
                elif change == "close":
                    values = {"status": "closed"}
                with engine.begin() as conn:
                    conn.execute(update(Store).where(Store.id == store_id)
                                 .values(updated_at=datetime.now(UTC), **values))
                t = time.perf_counter()
                while time.perf_counter() - t < 30 and not shows(client, store_id, lat, lng, change):
                    time.sleep(0.005)
                seen.append(time.perf_counter() - t)
            p = np.percentile(seen, [50, 95])
            rows.append((f"  {change}", f"{p[0]:7.3f} {p[1]:7.3f} {max(seen):7.3f}"))
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)

    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if os.environ.get("BENCH_JSON"):
        print(json.dumps(rows, ensure_ascii=False))


class _Rows(list):
    """The table, also printed line by line as it fills (a million-store run takes a while)."""

    def append(self, row: tuple[str, str]) -> None:
        super().append(row)
        print(f"  ... {row[0]}: {row[1]}", file=sys.stderr, flush=True)


def shows(client: httpx.Client, store_id: int, lat: float, lng: float, change: str) -> bool:
    """Whether the server's nearby results around (lat, lng) reflect the change."""
    items = client.get("/stores/nearby", params={"lat": lat, "lng": lng, "datum": "wgs84", "radius_m": 30,
                                                 "limit": 50}).json()["items"]
    mine = [i for i in items if i["store"]["id"] == store_id]
    if change == "close":
        return not mine
    if change == "re-rate":
        return bool(mine) and mine[0]["score_parts"]["rating"]["value"] > 4.99
    return bool(mine)


if __name__ == "__main__":
    main()
