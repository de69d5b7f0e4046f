"""Apache Spark: the same queries for when one machine is not enough (DAODIAN_SPARK_MASTER).

Tests run it in local mode (`local[2]`); in production the master is a cluster URL and
DAODIAN_FACTS_DIR a path every executor can read. One SparkSession per process, reused.
"""

import os
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

from daodian.analytics import queries
from daodian.analytics.engines.base import normalise, snapshot
from daodian.analytics.export import DATASETS

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
    name = "spark"
    dialect = queries.SparkDialect()

    def __init__(self, facts_dir: Path, *, master: str = "local[2]"):
        self.facts_dir = facts_dir
        self.spark = spark_session(master)
        self.watermark, files = snapshot(facts_dir)
        for name, schema in DATASETS.items():
            ddl = ", ".join(f"`{n}` {_SPARK_TYPES[str(t)]}" for n, t in zip(schema.names, schema.types))
            if files[name]:
                frame = (self.spark.read.schema(ddl).option("basePath", str(facts_dir / name))
                         .parquet(*[str(path) for path in files[name]])
                         .where(f"fact_id <= {int(self.watermark)}").select(*schema.names))
                if sum(path.stat().st_size for path in files[name]) <= CACHE_BYTES:
                    # Many small daily files: read them once, then every query of the job runs from memory.
                    frame = frame.coalesce(max(1, self.spark.sparkContext.defaultParallelism)).cache()
            else:
                frame = self.spark.createDataFrame([], ddl)
            frame.createOrReplaceTempView(name)
        for view in queries.VIEWS:
            self.spark.sql(view)

    def sql(self, text: str) -> pd.DataFrame:
        return normalise(self.spark.sql(text).toArrow())

    def run(self, query: str, params: dict | None = None) -> pd.DataFrame:
        return self.sql(queries.render(query, params or {}, self.dialect))

    def close(self) -> None:
        """The session stays up for the next engine in this process (starting one takes seconds)."""
