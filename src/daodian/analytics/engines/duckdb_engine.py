"""DuckDB: the default engine, in process, over the Parquet files.

Small exports (up to MATERIALIZE_BYTES of Parquet) are loaded into memory once, because a dashboard runs
several queries and daily partitions mean many small files; bigger ones are queried in place.
`shared(facts_dir)` keeps one engine per export watermark for the server's requests.
"""

import threading
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from daodian.analytics import queries
from daodian.analytics.engines.base import normalise, snapshot
from daodian.analytics.export import DATASETS, Manifest

MATERIALIZE_BYTES = 256 * 1024 * 1024


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
        kind = "TABLE" if (materialize if materialize is not None else size <= MATERIALIZE_BYTES) else "VIEW"
        for name, schema in DATASETS.items():
            if files[name]:
                paths = ", ".join(_quote(str(path)) for path in files[name])
                self.con.execute(f"CREATE OR REPLACE {kind} {name} AS SELECT * EXCLUDE (date) FROM "
                                 f"read_parquet([{paths}], hive_partitioning = true) "
                                 f"WHERE fact_id <= {int(self.watermark)}")
            else:  # nothing exported yet: the same columns, no rows
                self.con.register(f"{name}_empty", pa.table({n: pa.array([], t) for n, t in zip(schema.names,
                                                                                                 schema.types)}))
                self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {name}_empty")
        for view in queries.VIEWS:
            self.con.execute(view)

    def sql(self, text: str) -> pd.DataFrame:
        with self._lock:
            return normalise(self.con.sql(text).to_arrow_table())

    def run(self, query: str, params: dict | None = None) -> pd.DataFrame:
        return self.sql(queries.render(query, params or {}, self.dialect))

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

    def sql(self, text: str) -> pd.DataFrame:
        return self._engine.sql(text)

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
