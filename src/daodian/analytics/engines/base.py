"""The job interface both engines implement, and the normal form of their results."""

from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa

from daodian.analytics.export import DATASETS, Manifest, data_files


class Engine(Protocol):
    name: str

    def run(self, query: str, params: dict | None = None) -> pd.DataFrame:
        """Run the named query (analytics.queries.QUERIES) and return its rows in normal form."""

    def close(self) -> None: ...


def snapshot(facts_dir: Path) -> tuple[int, dict[str, list[Path]]]:
    """(watermark, data files per dataset): what a reader may see. Rows above the watermark belong to
    a batch whose export has not finished, and are filtered out."""
    return Manifest.read(facts_dir).watermark, {name: data_files(facts_dir, name) for name in DATASETS}


def normalise(table: pa.Table) -> pd.DataFrame:
    """Engine output -> pandas with one type per kind of value, so both engines' results compare equal:
    every integer as nullable Int64, dates as datetime.date objects, text as str."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_integer(column.type) or pa.types.is_decimal(column.type):
            columns[name] = pd.array(column.cast(pa.int64()).to_pylist(), dtype="Int64")
        else:
            columns[name] = pd.Series(column.to_pylist(), dtype=object)
    return pd.DataFrame(columns)
