"""Data for the nearby benches: a seeded city of stores, and the same stores copied into PostGIS.

`generate` fills an empty, migrated database with district-weighted stores (it depends on nothing but the
schema); `daodian demo --stores 1000000` makes a richer one. `PostgisCopy` keeps a PostGIS table of the
listed stores of a database (store not closed, merchant active: the stores the nearby index ranks),
one row per store and one per (store, service category), with GiST indexes, for the KNN anchor:

    SELECT id FROM ... WHERE ST_DWithin(geog, origin, 3000, false) ORDER BY geog <-> origin LIMIT 20

Distances are on the sphere, as daodian's are (`use_spheroid => false`; `<->` on geography is spherical).
The copy is reused while the source's fingerprint (store count, id sum, newest stamps) is unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import psycopg
from sqlalchemy import func, select, text

from daodian.kit.db import make_session_factory, unit_of_work
from daodian.merchants.models import Merchant, Store
from daodian.taxonomy.models import ServiceCategory

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


def _stamp(dt: datetime, postgres: bool) -> str:
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
        now = _stamp(datetime.now(UTC), pg)
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
        _write(conn, "merchants", ["id", "name", "description", "status", "created_at", "updated_at"], merchants)
        _write(conn, "stores", ["id", "merchant_id", "name", "address", "lat", "lng", "input_lat", "input_lng",
                                "input_datum", "timezone", "hours", "closed_dates", "status", "primary_category_id",
                                "rating_avg", "rating_count", "popularity", "created_at", "updated_at"], stores)
        _write(conn, "store_service_categories", ["store_id", "category_id"], pairs)
        if pg:
            for table in ("merchants", "stores"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            conn.exec_driver_sql("ANALYZE merchants, stores, store_service_categories")


def _write(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
    else:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        for start in range(0, len(rows), 50_000):
            conn.exec_driver_sql(sql, rows[start:start + 50_000])


_LISTED = text("SELECT s.id, s.lat, s.lng FROM stores s JOIN merchants m ON m.id = s.merchant_id "
               "WHERE s.status <> 'closed' AND m.status = 'active' ORDER BY s.id")
_PAIRS = text("SELECT sc.store_id, sc.category_id FROM store_service_categories sc JOIN stores s ON s.id = sc.store_id "
              "JOIN merchants m ON m.id = s.merchant_id WHERE s.status <> 'closed' AND m.status = 'active'")


def fingerprint(engine) -> str:
    with unit_of_work(make_session_factory(engine), read_only=True) as session:
        parts = [session.scalar(select(func.count()).select_from(Store)), session.scalar(select(func.sum(Store.id))),
                 session.scalar(select(func.max(Store.updated_at))), session.scalar(select(func.max(Merchant.updated_at)))]
    return "|".join(str(p) for p in parts)


class PostgisCopy:
    """The listed stores of `engine`'s database, in PostGIS at `dsn` (a database it may create)."""

    def __init__(self, dsn: str):
        self.dsn = dsn

    @staticmethod
    def reachable(dsn: str) -> str | None:
        """None when the server answers; else why not."""
        try:
            admin = psycopg.conninfo.conninfo_to_dict(dsn) | {"dbname": "postgres"}
            with psycopg.connect(**admin, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return str(exc).strip().splitlines()[0]
        return None

    def ensure(self, engine) -> tuple[bool, float]:
        """Make the copy unless it matches the source already; (made now, seconds)."""
        self._create_database()
        mark = fingerprint(engine)
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (fingerprint text)")
            if conn.execute("SELECT fingerprint FROM bench_meta").fetchone() == (mark,):
                return False, 0.0
        started = datetime.now(UTC)
        with engine.connect() as source:
            stores = source.execute(_LISTED).all()
            pairs = source.execute(_PAIRS).all()
        with psycopg.connect(self.dsn) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_stores, bench_store_categories")
            conn.execute("CREATE TABLE bench_stores (id bigint PRIMARY KEY, lat float8, lng float8, geog geography(Point, 4326))")
            conn.execute("CREATE TABLE bench_store_categories (store_id bigint, category_id bigint, geog geography(Point, 4326))")
            with conn.cursor().copy("COPY bench_stores (id, lat, lng) FROM STDIN") as cp:
                for row in stores:
                    cp.write_row(tuple(row))
            conn.execute("UPDATE bench_stores SET geog = ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography")
            with conn.cursor().copy("COPY bench_store_categories (store_id, category_id) FROM STDIN") as cp:
                for row in pairs:
                    cp.write_row(tuple(row))
            conn.execute("UPDATE bench_store_categories c SET geog = s.geog FROM bench_stores s WHERE s.id = c.store_id")
            conn.execute("CREATE INDEX bench_stores_geog ON bench_stores USING gist (geog)")
            # btree_gist: one index answers "this category, nearest first".
            conn.execute("CREATE INDEX bench_store_categories_geog ON bench_store_categories USING gist (category_id, geog)")
            conn.execute("DELETE FROM bench_meta")
            conn.execute("INSERT INTO bench_meta VALUES (%s)", (mark,))
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE bench_stores")
            conn.execute("VACUUM ANALYZE bench_store_categories")
        return True, (datetime.now(UTC) - started).total_seconds()

    def _create_database(self) -> None:
        info = psycopg.conninfo.conninfo_to_dict(self.dsn)
        with psycopg.connect(**(info | {"dbname": "postgres"}), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (info["dbname"],)).fetchone():
                conn.execute(f'CREATE DATABASE "{info["dbname"]}"')


KNN_ALL = ("SELECT id FROM bench_stores WHERE ST_DWithin(geog, ST_MakePoint(%(lng)s, %(lat)s)::geography, %(r)s, false) "
           "ORDER BY geog <-> ST_MakePoint(%(lng)s, %(lat)s)::geography LIMIT %(k)s")
KNN_CATEGORY = ("SELECT store_id FROM bench_store_categories WHERE category_id = %(c)s::bigint "
                "AND ST_DWithin(geog, ST_MakePoint(%(lng)s, %(lat)s)::geography, %(r)s, false) "
                "ORDER BY geog <-> ST_MakePoint(%(lng)s, %(lat)s)::geography LIMIT %(k)s")
# The plan the anchor is about: the GiST index scanned nearest first. Without these the planner trusts
# ST_DWithin's estimate of a handful of rows and sorts a bitmap scan of the whole circle instead (20-500 ms
# with JIT compiling it), and plans parallel workers for 20 rows.
SESSION = ("SET jit = off", "SET max_parallel_workers_per_gather = 0", "SET enable_bitmapscan = off")
# For comparing ids: ties in distance (stores at one address) broken by id, as daodian does. Ordering the
# whole circle by (distance, id) defeats the nearest-first index scan (seconds a query in a busy district),
# so the index's nearest 3k are taken first, then ordered with ties by id.
NEAREST_ALL = ("SELECT id FROM (SELECT id, geog <-> ST_MakePoint(%(lng)s, %(lat)s)::geography AS d FROM bench_stores "
               "WHERE ST_DWithin(geog, ST_MakePoint(%(lng)s, %(lat)s)::geography, %(r)s, false) "
               "ORDER BY geog <-> ST_MakePoint(%(lng)s, %(lat)s)::geography LIMIT 3 * %(k)s) n ORDER BY d, id LIMIT %(k)s")
NEAREST_CATEGORY = ("SELECT store_id FROM (SELECT store_id, geog <-> ST_MakePoint(%(lng)s, %(lat)s)::geography AS d "
                    "FROM bench_store_categories WHERE category_id = %(c)s::bigint "
                    "AND ST_DWithin(geog, ST_MakePoint(%(lng)s, %(lat)s)::geography, %(r)s, false) "
                    "ORDER BY geog <-> ST_MakePoint(%(lng)s, %(lat)s)::geography LIMIT 3 * %(k)s) n "
                    "ORDER BY d, store_id LIMIT %(k)s")
