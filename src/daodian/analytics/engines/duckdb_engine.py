"""DuckDB: the default engine, in process, over the Parquet files.

Every named query about one merchant runs over views that hold only that merchant's rows: `facts` and
`lines` are re-pointed at the merchant's bucket files (filtered to the merchant; row-group statistics
skip the bucket's other merchants), so a dashboard's cost follows its merchant's size, not the platform's.
Small exports (up to MATERIALIZE_BYTES of Parquet) are loaded into memory once, sorted by merchant,
because a dashboard runs several queries; bigger ones are queried in place.
`shared(facts_dir)` keeps one engine per export watermark for the server's requests.
"""

import threading
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from daodian.analytics import marts, queries
from daodian.analytics.engines.base import scope_of, snapshot
from daodian.analytics.export import DATASETS, Manifest, data_files
from daodian.analytics.queries import normalise

MATERIALIZE_BYTES = 256 * 1024 * 1024
_EVERYONE = object()  # the scope of queries across merchants (distinct from "not pointed yet")


class DuckDBEngine:
    name = "duckdb"
    dialect = queries.DuckDialect()

    def __init__(self, facts_dir: Path, *, threads: int | None = None, materialize: bool | None = None):
        self.facts_dir = facts_dir
        self.con = duckdb.connect(":memory:")
        self._lock = threading.Lock()  # one connection: queries from several request threads take turns
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.watermark, files = snapshot(facts_dir)
        size = sum(path.stat().st_size for paths in files.values() for path in paths)
        self.materialized = materialize if materialize is not None else size <= MATERIALIZE_BYTES
        self._has = {name: bool(files[name]) for name in DATASETS}
        for name, schema in DATASETS.items():
            # the same columns, no rows: for nothing exported yet, or a merchant without files
            self.con.register(f"{name}_empty", pa.table({n: pa.array([], t) for n, t in zip(schema.names,
                                                                                             schema.types)}))
            if self.materialized and files[name]:
                self.con.execute(f"CREATE TABLE {name}_all AS {self._read(name, files[name])} "
                                 f"ORDER BY merchant_id, fact_id")
        self._scope: object = None
        self._point(_EVERYONE)

    def _read(self, name: str, paths: list[Path]) -> str:
        columns = ", ".join(DATASETS[name].names)
        listed = ", ".join(_quote(str(path)) for path in paths)
        return (f"SELECT {columns} FROM read_parquet([{listed}], hive_partitioning = false) "
                f"WHERE fact_id <= {int(self.watermark)}")

    def _point(self, scope: object) -> None:
        """Re-point `facts` and `lines` (and the views over them) at one merchant's rows, or everyone's."""
        if scope is self._scope or scope == self._scope:
            return
        merchant_id = None if scope is _EVERYONE else int(scope)
        for name in DATASETS:
            if not self._has[name]:
                source = f"SELECT * FROM {name}_empty"
            elif self.materialized:
                source = f"SELECT * FROM {name}_all"
            else:
                paths = data_files(self.facts_dir, name, merchant_id)
                source = self._read(name, paths) if paths else f"SELECT * FROM {name}_empty"
            where = "" if merchant_id is None else f" WHERE merchant_id = {merchant_id}"
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM ({source}) s{where}")
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
