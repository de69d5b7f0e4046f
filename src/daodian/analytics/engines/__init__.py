"""One job interface, two engines: `open_engine("duckdb" | "spark", facts_dir)` -> Engine.

Both run the same SQL (analytics.queries) over the same Parquet; tests/analytics/test_engines.py holds
them to identical results.
"""

from pathlib import Path

from daodian.analytics.engines.base import Engine
from daodian.analytics.engines.duckdb_engine import DuckDBEngine, shared
from daodian.analytics.frames import normalise
from daodian.kit.settings import Settings


def open_engine(kind: str, facts_dir: Path, *, settings: Settings | None = None, share: bool = False) -> Engine:
    """A new engine over the export in `facts_dir`; `share=True` (DuckDB) reuses the process's engine for
    the same export, as the server does across requests."""
    if kind == "duckdb":
        return shared(facts_dir) if share else DuckDBEngine(facts_dir)
    if kind == "spark":
        # pyspark is an optional dependency (the `spark` extra): imported only when asked for.
        from daodian.analytics.engines.spark_engine import SparkEngine

        return SparkEngine(facts_dir, master=settings.spark_master if settings else "local[2]")
    raise ValueError(f"unknown engine {kind!r}: duckdb or spark")


__all__ = ["Engine", "normalise", "open_engine"]
