"""The big merchants' dashboards, prepared by the job: their protected tables, stored as they were built.

A merchant dashboard's first load builds half a dozen protected tables (analytics.tables): queries over
the merchant's rows, then the privacy guard over every cell. For the Online Retail merchant (565,131 rows,
a sales cube of 436,742 cells) that took 8-12 s: 4 s the cube's query, 3.5 s the guard, so a
pre-aggregated cube alone does not bring it under a second. For the merchants whose dashboards are too big to build live
(analytics.marts.big_merchants) `daodian facts job` builds every table the dashboard page shows, at the
page's parameters, and stores each one here; the service (analytics.service) reads a table from here
before it would build it. One table is one small file, so the first load opens a few files and starts no
query engine.

A stored table answers only for the export watermark, the privacy threshold k and the parameters it was
built with, all part of its path (the segments' as_of is the merchant's own today, as the page asks for
it): after a new export, with another k or other parameters the table is built live, exactly as before.
Each file is written under a temporary name and renamed into place; a reader that finds no file, or loses
it to the job's clean-up, builds the table live. Layout under DAODIAN_FACTS_DIR:

    marts/prepared/w<watermark>-k<k>/<merchant_id>/<table>[_<parameter>...].parquet
"""

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from daodian.analytics.export import publish

DIRECTORY = Path("marts") / "prepared"
_SAFE = re.compile(r"^[A-Za-z0-9.-]+$")  # table names and parameter values as they appear in file names


def _version(facts_dir: Path, watermark: int, k: int) -> Path:
    return facts_dir / DIRECTORY / f"w{int(watermark):012d}-k{int(k)}"


def _path(facts_dir: Path, watermark: int, k: int, merchant_id: int, table: str, extra: tuple) -> Path:
    parts = [table, *(str(value) for value in extra)]
    if not all(_SAFE.match(part) for part in parts):
        raise ValueError(f"not a prepared table's name: {parts!r}")
    return _version(facts_dir, watermark, k) / str(int(merchant_id)) / f"{'_'.join(parts)}.parquet"


def read(facts_dir: Path, watermark: int, k: int, merchant_id: int, table: str, extra: tuple = ()
         ) -> pd.DataFrame | None:
    """The stored table, as it was built (same columns, dtypes and row order), or None: build it live."""
    path = _path(facts_dir, watermark, k, merchant_id, table, extra)
    try:
        text = [f.name for f in pq.read_schema(path) if pa.types.is_string(f.type)]
        stored = pq.ParquetFile(path, read_dictionary=text).read()  # not pq.read_table: see marts.merchant_rows
    except FileNotFoundError:  # not prepared, or removed by a newer job while we looked
        return None
    return _frame(stored)


def _frame(stored: pa.Table) -> pd.DataFrame:
    """The frame the table was written from. Text and dates become one Python object per distinct value,
    not per cell: a big merchant's sales table has 400k cells but a few thousand rows and nodes, and
    making every cell's strings took most of its first load. The pandas metadata saved with the file
    restores the other columns' dtypes (Int64, int64, bool)."""
    shared = [name for name, kind in zip(stored.column_names, stored.schema.types)
              if pa.types.is_dictionary(kind) or pa.types.is_date32(kind)]
    rest = stored.drop_columns(shared).to_pandas() if len(shared) < stored.num_columns else None
    # copy=False: every column is new already (copying them again took as long as the rest; readers never
    # write to a table, which the service's cache shares between requests)
    return pd.DataFrame({name: _objects(stored.column(name)) if name in shared else rest[name]
                         for name in stored.column_names}, index=pd.RangeIndex(stored.num_rows), copy=False)


def _objects(column: pa.ChunkedArray) -> np.ndarray:
    parts = []
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = pc.dictionary_encode(chunk)
        values = np.array(chunk.dictionary.to_pylist() + [None], dtype=object)  # the last one stands for null
        parts.append(values[chunk.indices.fill_null(len(chunk.dictionary)).to_numpy(zero_copy_only=False)])
    return np.concatenate(parts) if parts else np.array([], dtype=object)


def write(facts_dir: Path, watermark: int, k: int, merchant_id: int, tables: dict[tuple[str, tuple], pd.DataFrame]
          ) -> int:
    """Store one merchant's tables ({(table, parameters): frame}); returns the number of files."""
    staged = []
    for (table, extra), frame in tables.items():
        target = _path(facts_dir, watermark, k, merchant_id, table, extra)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), staging, compression="zstd")
        staged.append((staging, target))
    return publish(staged)


def retire(facts_dir: Path, watermark: int, k: int) -> int:
    """Remove the tables of other exports (and other k): nothing reads them any more."""
    keep = _version(facts_dir, watermark, k)
    removed = 0
    for version in sorted((facts_dir / DIRECTORY).glob("w*-k*")):
        if version != keep:
            shutil.rmtree(version, ignore_errors=True)
            removed += 1
    return removed
