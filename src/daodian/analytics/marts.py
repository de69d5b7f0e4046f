"""Per-merchant pre-aggregates: the results of the heaviest dashboard queries for every merchant at once,
written by the batch job (`daodian facts job`) next to the export, read by the dashboards.

The sales cube of a big merchant is counts of distinct consumers in every cell of the item/store x
day/week/month/year tree: exact distinct counts do not roll up from smaller cells, so no daily aggregate
can answer it, and computing it live takes seconds. The job computes it for the big merchants, one at a
time (the whole platform's cube in one query took more than 11 GB), and stores RFM, which it computes for
everyone anyway. A merchant is big by the rows its dashboard scans: its rows of both facts datasets,
facts and lines (BIG_MERCHANT_FACTS), not its facts alone. One Online Retail invoice is one fact of 22
lines on average: its 24,561 facts are 565,131 rows, and counting facts left it live (8-12 s for the
first load, the cube and its privacy guard). For the same merchants the job stores the dashboard's
protected tables (analytics.prepared). Smaller merchants' dashboards are built live over their own rows
in well under a second. A dashboard query reads one merchant's rows (the file is sorted by merchant, so
its row groups' statistics skip the others).

A mart answers only for the export watermark and the parameters it was computed with; anything else
(a newer export, another as_of) runs the query live. Layout under DAODIAN_FACTS_DIR:

    marts/_manifest.json                    {name: {"watermark", "params", "file"}}
    marts/<name>-<watermark>-<hash>.parquet
"""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from daodian.analytics import queries
from daodian.analytics.export import ROW_GROUP, _atomic_write, publish
from daodian.analytics.frames import normalise

PER_MERCHANT = ("sales_cube", "rfm")  # a dashboard reads its merchant's rows
WHOLE = ("merchant_overview", "platform_months")  # the operator's dashboard reads all of it
MARTS = PER_MERCHANT + WHOLE
# Rows of a merchant in the facts and lines datasets from which the job prepares its dashboard. Built live, the
# first load costs ~0.45 s whatever the size (six queries and nine runs of the privacy guard) plus ~6 s per
# million rows, measured at 10M facts on 2 cores: ~0.6 s at 20k rows in process, ~0.75 s at 50k, 1.3 s at
# 200k (bench/dashboard_first_load.py). Preparing one costs the job about the same, so not every merchant's.
BIG_MERCHANT_FACTS = 20_000
DIRECTORY = "marts"
MANIFEST = "_manifest.json"


def _key(name: str, params: dict | None) -> str:
    """The parameters a mart was computed with, without the merchant (a mart holds every merchant)."""
    validated = {k: v for k, v in queries.QUERIES[name].params(params or {}).items() if k != "merchant_id"}
    return json.dumps(validated, sort_keys=True, default=str)


def _manifest(facts_dir: Path) -> dict:
    path = facts_dir / DIRECTORY / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def write(facts_dir: Path, watermark: int, name: str, params: dict | None, frame: pd.DataFrame | pa.Table, *,
          merchants: list[int] | None = None) -> Path:
    """Store `frame` (the query's rows, as an engine returned them) as the mart: for every merchant, or
    for `merchants` only (the others are not in it and run live)."""
    key = _key(name, params)
    directory = facts_dir / DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    target = directory / f"{name}-{int(watermark):012d}-{digest}.parquet"
    staging = target.with_name(f".{target.name}.tmp")
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    if "merchant_id" in table.column_names:
        table = table.take(pc.sort_indices(table, [("merchant_id", "ascending")]))  # stable, like pandas' sort
    pq.write_table(table, staging, compression="zstd", row_group_size=ROW_GROUP)
    publish([(staging, target)])
    manifest = _manifest(facts_dir)
    previous = manifest.get(name, {}).get("file")
    manifest[name] = {"watermark": int(watermark), "params": key, "file": target.name,
                      "merchants": None if merchants is None else sorted(int(m) for m in merchants)}
    _atomic_write(directory / MANIFEST, json.dumps(manifest, indent=1).encode())
    if previous and previous != target.name:
        (directory / previous).unlink(missing_ok=True)
    return target


def lookup(facts_dir: Path, watermark: int, name: str, params: dict | None) -> pd.DataFrame | None:
    """One merchant's rows (or the whole operator report) of a fresh mart for this query and these
    parameters, else None (run it live)."""
    if name not in MARTS:
        return None
    merchant_id = queries.QUERIES[name].params(params or {}).get("merchant_id")
    if name in PER_MERCHANT and merchant_id is None:  # the job itself, computing every merchant
        return None
    entry = _manifest(facts_dir).get(name)
    if not entry or entry["watermark"] != watermark or entry["params"] != _key(name, params):
        return None
    if merchant_id is not None and entry.get("merchants") is not None and int(merchant_id) not in entry["merchants"]:
        return None
    path = facts_dir / DIRECTORY / entry["file"]
    if not path.exists():
        return None
    if name in WHOLE:
        return normalise(pq.ParquetFile(path).read())
    return normalise(merchant_rows(path, int(merchant_id)))


def merchant_rows(path: Path, merchant_id: int) -> pa.Table:
    """One merchant's rows of a file sorted by merchant: only the row groups whose statistics can hold them.
    Through ParquetFile, not pq.read_table's filters, which import pyarrow.dataset on first use: 0.2 s of a
    dashboard's first load."""
    file = pq.ParquetFile(path)
    column = file.schema_arrow.get_field_index("merchant_id")
    groups = []
    for group in range(file.metadata.num_row_groups):
        stats = file.metadata.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max or stats.min <= merchant_id <= stats.max:
            groups.append(group)
    table = file.read_row_groups(groups) if groups else file.schema_arrow.empty_table()
    return table.filter(pc.equal(table["merchant_id"], merchant_id))  # null merchant_id: not this merchant


def big_merchants(engine) -> list[int]:
    """Merchants whose dashboards are too slow to compute live: at least BIG_MERCHANT_FACTS rows of the facts
    and lines datasets, which is what their queries scan (and what the cells of their cube grow with)."""
    sizes = engine.sql(f"SELECT merchant_id FROM (SELECT merchant_id FROM facts UNION ALL SELECT merchant_id "
                       f"FROM lines) s WHERE merchant_id IS NOT NULL GROUP BY merchant_id "
                       f"HAVING COUNT(*) >= {int(BIG_MERCHANT_FACTS)}")
    return sorted(int(m) for m in sizes["merchant_id"])


def build_sales_cubes(engine, facts_dir: Path, merchants: list[int],
                      each: Callable[[int, pd.DataFrame], None] | None = None) -> pa.Table:
    """The sales cube of each of `merchants`, one at a time (bounded memory), stored as the mart. `each(merchant,
    cube)` runs after each merchant's cube, while the engine still holds that merchant's rows."""
    parts = []
    for merchant_id in merchants:
        frame = engine.run("sales_cube", {"merchant_id": merchant_id})
        if each:
            each(merchant_id, frame)
        parts.append(pa.Table.from_pandas(frame, preserve_index=False))  # Arrow: a fraction of pandas' memory
    table = (pa.concat_tables(parts, promote_options="permissive") if parts
             else pa.table({"merchant_id": pa.array([], pa.int64())}))
    write(facts_dir, engine.watermark, "sales_cube", {}, table, merchants=merchants)
    return table
