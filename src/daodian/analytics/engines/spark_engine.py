"""Apache Spark: the same queries for when one machine is not enough (DAODIAN_SPARK_MASTER).

Tests run it in local mode (`local[2]`); in production the master is a cluster URL and
DAODIAN_FACTS_DIR a path every executor can read. One SparkSession per process, reused.
"""

import os
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

from daodian.analytics import marts, queries
from daodian.analytics.dialects import SparkDialect
from daodian.analytics.engines.base import scope_of, snapshot
from daodian.analytics.export import DATASETS, data_files
from daodian.analytics.frames import normalise

CACHE_BYTES = 512 * 1024 * 1024  # Parquet bytes per dataset up to which the engine caches it in memory
_SPARK_TYPES = {"int64": "BIGINT", "string": "STRING", "date32[day]": "DATE", "timestamp[us, tz=UTC]": "TIMESTAMP"}


def spark_session(master: str) -> SparkSession:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (SparkSession.builder.appName("daodian-analytics").master(master)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.adaptive.enabled", "true"))
    if master.startswith("local"):
        # One machine: few shuffle partitions (the default 200 tasks per stage cost seconds on small data).
        builder = (builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.memory", "2g")
                   .config("spark.sql.shuffle.partitions", "4").config("spark.default.parallelism", "2")
                   # List the daily partitions in the driver, not with a Spark job per read.
                   .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
                   # Compiling generated code costs more than it saves on the small data of one machine.
                   .config("spark.sql.codegen.wholeStage", "false"))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Like DuckDBEngine, a query about one merchant sees (and reads) only that merchant's bucket and rows."""

    name = "spark"
    dialect = SparkDialect()

    def __init__(self, facts_dir: Path, *, master: str = "local[2]"):
        self.facts_dir = facts_dir
        self.spark = spark_session(master)
        self.watermark, files = snapshot(facts_dir)
        self._ddl = {name: ", ".join(f"`{n}` {_SPARK_TYPES[str(t)]}" for n, t in zip(schema.names, schema.types))
                     for name, schema in DATASETS.items()}
        size = sum(path.stat().st_size for paths in files.values() for path in paths)
        # Many small files: read them once, then every query of the job runs from memory. A big export is
        # read in place, spread over more shuffle partitions (adaptive execution merges small ones).
        self.cached = size <= CACHE_BYTES
        self.spark.conf.set("spark.sql.shuffle.partitions", "4" if self.cached else "32")
        self._all = {name: self._frame(name, files[name]) for name in DATASETS}
        if self.cached:
            parallelism = max(1, self.spark.sparkContext.defaultParallelism)
            self._all = {name: frame.coalesce(parallelism).cache() for name, frame in self._all.items()}
        self._scope: object = None
        self._point(_EVERYONE)

    def _frame(self, name: str, paths: list[Path]):
        if not paths:
            return self.spark.createDataFrame([], self._ddl[name])
        return (self.spark.read.schema(self._ddl[name]).parquet(*[str(path) for path in paths])
                .where(f"fact_id <= {int(self.watermark)}").select(*DATASETS[name].names))

    def _point(self, scope: object) -> None:
        if scope is self._scope or scope == self._scope:
            return
        merchant_id = None if scope is _EVERYONE else int(scope)
        for name in DATASETS:
            if merchant_id is None:
                frame = self._all[name]
            else:
                source = self._all[name] if self.cached else self._frame(
                    name, data_files(self.facts_dir, name, merchant_id))
                frame = source.where(f"merchant_id = {merchant_id}")
            frame.createOrReplaceTempView(name)
        for view in queries.VIEWS:  # recreated: they resolve `facts` and `lines` when they are created
            self.spark.sql(view)
        self._scope = scope

    def sql(self, text: str, merchant_id: int | None = None) -> pd.DataFrame:
        self._point(_EVERYONE if merchant_id is None else merchant_id)
        return normalise(self.spark.sql(text).toArrow())

    def run(self, query: str, params: dict | None = None) -> pd.DataFrame:
        text = queries.render(query, params or {}, self.dialect)
        stored = marts.lookup(self.facts_dir, self.watermark, query, params)
        return stored if stored is not None else self.sql(text, scope_of(query, params))

    def close(self) -> None:
        """The session stays up for the next engine in this process (starting one takes seconds)."""


_EVERYONE = object()  # the scope of queries across merchants (distinct from "not pointed yet")
