"""DuckDB: the default engine, in process, over the Parquet files.

A named query about one merchant runs over that merchant's rows only, copied into memory the first time
the engine is asked about it: the rows of its bucket's files (analytics.export) filtered to the merchant,
whose row-group statistics skip the bucket's other merchants. A dashboard runs half a dozen queries over
the same rows, and reading them once costs less than one Parquet scan per query (at 10M facts each scan
paid ~0.1 s of opening the bucket's files, even for a merchant of a thousand facts). The merchants asked
about last stay loaded, up to KEPT_MERCHANTS and KEPT_ROWS rows. So a dashboard's cost follows its
merchant's size, not the platform's.

Queries across merchants (the job, the operator) run over the whole export: loaded into memory, sorted by
merchant, when it is small (up to MATERIALIZE_BYTES of Parquet; later merchant copies are then taken from
memory too), else straight from the Parquet. Opening the engine reads only the manifest: the whole export
is listed the first time a query needs it, so a merchant's first dashboard never lists the other buckets.
`shared(facts_dir)` keeps one engine per export watermark for the server's requests.
"""

import threading
from collections import OrderedDict
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from daodian.analytics import marts, queries
from daodian.analytics.dialects import DuckDialect
from daodian.analytics.engines.base import scope_of, snapshot
from daodian.analytics.export import DATASETS, Manifest, data_files
from daodian.analytics.frames import normalise
from daodian.kit.one_core import on_every_core

MATERIALIZE_BYTES = 256 * 1024 * 1024
KEPT_MERCHANTS = 8  # merchants whose rows stay in memory after their queries
KEPT_ROWS = 4_000_000  # ... as long as they hold no more rows than this together (~100 bytes a row)
_EVERYONE = object()  # the scope of queries across merchants (distinct from "not pointed yet")


class DuckDBEngine:
    name = "duckdb"
    dialect = DuckDialect()

    def __init__(self, facts_dir: Path, *, threads: int | None = None, materialize: bool | None = None):
        self.facts_dir = facts_dir
        with on_every_core():  # DuckDB's threads, made here, must not inherit a request thread's one core
            self.con = duckdb.connect(":memory:")
        self._lock = threading.Lock()  # one connection: queries from several request threads take turns
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        # Rows above the watermark belong to a later (or unfinished) export and are filtered out wherever
        # files are read, so files listed later than this (the export only adds files) show nothing new.
        self.watermark = Manifest.read(facts_dir).watermark
        self._materialize = materialize
        self.materialized: bool | None = None  # decided when the whole export is first read
        self._whole: dict[str, str] | None = None  # dataset -> SQL of every merchant's rows
        self._kept: OrderedDict[int, int] = OrderedDict()  # merchant -> rows in memory, least recent first
        for name, schema in DATASETS.items():
            # the same columns, no rows: for nothing exported yet, or a merchant without files
            self.con.register(f"{name}_empty", pa.table({n: pa.array([], t) for n, t in zip(schema.names,
                                                                                             schema.types)}))
        self._scope: object = None

    def _read(self, name: str, paths: list[Path]) -> str:
        columns = ", ".join(DATASETS[name].names)
        listed = ", ".join(_quote(str(path)) for path in paths)
        return (f"SELECT {columns} FROM read_parquet([{listed}], hive_partitioning = false) "
                f"WHERE fact_id <= {int(self.watermark)}")

    def _everyone(self) -> dict[str, str]:
        """The whole export, listed (and loaded, when small) on first use."""
        if self._whole is None:
            _, files = snapshot(self.facts_dir)
            size = sum(path.stat().st_size for paths in files.values() for path in paths)
            self.materialized = self._materialize if self._materialize is not None else size <= MATERIALIZE_BYTES
            whole = {}
            for name in DATASETS:
                if not files[name]:
                    whole[name] = f"SELECT * FROM {name}_empty"
                elif self.materialized:
                    self.con.execute(f"CREATE TABLE {name}_all AS {self._read(name, files[name])} "
                                     f"ORDER BY merchant_id, fact_id")
                    whole[name] = f"SELECT * FROM {name}_all"
                else:
                    whole[name] = self._read(name, files[name])
            self._whole = whole
        return self._whole

    def _keep(self, merchant_id: int) -> None:
        """Copy one merchant's rows into memory (from the whole export when it is loaded, else from its
        bucket's files), unless they are there already; forget the least recent merchants beyond the bounds."""
        if merchant_id in self._kept:
            self._kept.move_to_end(merchant_id)
            return
        rows = 0
        for name in DATASETS:
            if self._whole is not None and self.materialized:  # loaded already (or nothing exported: empty)
                source = f"SELECT * FROM ({self._whole[name]}) WHERE merchant_id = {merchant_id}"
            else:
                paths = data_files(self.facts_dir, name, merchant_id)
                source = (f"{self._read(name, paths)} AND merchant_id = {merchant_id}" if paths
                          else f"SELECT * FROM {name}_empty")
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_m{merchant_id} AS {source}")
            rows += self.con.execute(f"SELECT COUNT(*) FROM {name}_m{merchant_id}").fetchall()[0][0]
        self._kept[merchant_id] = rows
        while len(self._kept) > 1 and (len(self._kept) > KEPT_MERCHANTS or sum(self._kept.values()) > KEPT_ROWS):
            gone, _ = self._kept.popitem(last=False)  # never the one just loaded: it is the newest
            for name in DATASETS:
                self.con.execute(f"DROP TABLE IF EXISTS {name}_m{gone}")

    def _point(self, scope: object) -> None:
        """Point `facts` and `lines` (and the views over them) at one merchant's rows, or everyone's."""
        if scope is self._scope or scope == self._scope:
            return
        if scope is _EVERYONE:
            sources = self._everyone()
        else:
            merchant_id = int(scope)
            self._keep(merchant_id)
            sources = {name: f"SELECT * FROM {name}_m{merchant_id}" for name in DATASETS}
        for name in DATASETS:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sources[name]}")
        for view in queries.VIEWS:
            self.con.execute(view)
        self._scope = scope

    def sql(self, text: str, merchant_id: int | None = None) -> pd.DataFrame:
        """Raw SQL over the views, across merchants unless `merchant_id` narrows them."""
        with self._lock:
            self._point(_EVERYONE if merchant_id is None else merchant_id)
            return normalise(self.con.sql(text).to_arrow_table())

    def run(self, query: str, params: dict | None = None) -> pd.DataFrame:
        """The named query's rows: from the job's pre-aggregate when one is fresh (analytics.marts), else live."""
        text = queries.render(query, params or {}, self.dialect)
        stored = marts.lookup(self.facts_dir, self.watermark, query, params)
        return stored if stored is not None else self.sql(text, scope_of(query, params))

    def close(self) -> None:
        with self._lock:
            self.con.close()


_SHARED: dict[str, DuckDBEngine] = {}
_SHARED_LOCK = threading.Lock()


class _Borrowed:
    """A shared engine handed out to one caller: `close()` leaves it open for the next."""

    def __init__(self, engine: DuckDBEngine):
        self._engine, self.name, self.dialect = engine, engine.name, engine.dialect
        self.watermark = engine.watermark

    def run(self, query: str, params: dict | None = None) -> pd.DataFrame:
        return self._engine.run(query, params)

    def sql(self, text: str, merchant_id: int | None = None) -> pd.DataFrame:
        return self._engine.sql(text, merchant_id)

    def close(self) -> None:
        pass


def shared(facts_dir: Path) -> _Borrowed:
    """The process's engine for the current export of `facts_dir` (a new export replaces it)."""
    key, watermark = str(facts_dir.resolve()), Manifest.read(facts_dir).watermark
    with _SHARED_LOCK:
        engine = _SHARED.get(key)
        if engine is None or engine.watermark != watermark:
            # The old one is not closed: a request may still be using it; it goes when unreferenced.
            engine = _SHARED[key] = DuckDBEngine(facts_dir)
        return _Borrowed(engine)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
