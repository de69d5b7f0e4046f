"""Per-merchant pre-aggregates: the results of the heaviest dashboard queries for every merchant at once,
written by the batch job (`daodian facts job`) next to the export, read by the dashboards.

The sales cube of a big merchant (a million facts) is counts of distinct consumers in every cell of the
item/store x day/week/month/year tree: exact distinct counts do not roll up from smaller cells, so no
daily aggregate can answer it, and computing it live takes seconds. The job computes it for the merchants
with at least BIG_MERCHANT_FACTS facts, one merchant at a time (the whole platform's cube in one query
took more than 11 GB), and stores RFM, which it computes for everyone anyway; smaller merchants' queries
run live over their own rows in well under a second. A dashboard query reads one merchant's rows (the file
is sorted by merchant, so its row groups' statistics skip the others).

A mart answers only for the export watermark and the parameters it was computed with; anything else
(a newer export, another as_of) runs the query live. Layout under DAODIAN_FACTS_DIR:

    marts/_manifest.json                    {name: {"watermark", "params", "file"}}
    marts/<name>-<watermark>-<hash>.parquet
"""

import hashlib
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from daodian.analytics import queries
from daodian.analytics.export import ROW_GROUP, _atomic_write, publish
from daodian.analytics.queries import normalise

PER_MERCHANT = ("sales_cube", "rfm")  # a dashboard reads its merchant's rows
WHOLE = ("merchant_overview", "platform_months")  # the operator's dashboard reads all of it
MARTS = PER_MERCHANT + WHOLE
BIG_MERCHANT_FACTS = 100_000  # live, the sales cube takes ~0.25 s per 100k facts on 2 loaded cores
DIRECTORY = "marts"
MANIFEST = "_manifest.json"


def _key(name: str, params: dict | None) -> str:
    """The parameters a mart was computed with, without the merchant (a mart holds every merchant)."""
    validated = {k: v for k, v in queries.QUERIES[name].params(params or {}).items() if k != "merchant_id"}
    return json.dumps(validated, sort_keys=True, default=str)


def _manifest(facts_dir: Path) -> dict:
    path = facts_dir / DIRECTORY / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def write(facts_dir: Path, watermark: int, name: str, params: dict | None, frame: pd.DataFrame, *,
          merchants: list[int] | None = None) -> Path:
    """Store `frame` (the query's rows, as an engine returned them) as the mart: for every merchant, or
    for `merchants` only (the others are not in it and run live)."""
    key = _key(name, params)
    directory = facts_dir / DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    target = directory / f"{name}-{int(watermark):012d}-{digest}.parquet"
    staging = target.with_name(f".{target.name}.tmp")
    if "merchant_id" in frame.columns:
        frame = frame.sort_values("merchant_id", kind="stable")
    table = pa.Table.from_pandas(frame, preserve_index=False)
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
        return normalise(pq.read_table(path))
    return normalise(pq.read_table(path, filters=[("merchant_id", "=", int(merchant_id))]))


def big_merchants(engine) -> list[int]:
    """Merchants whose dashboards are too big to compute live (BIG_MERCHANT_FACTS)."""
    sizes = engine.sql(f"SELECT merchant_id FROM facts WHERE merchant_id IS NOT NULL GROUP BY merchant_id "
                       f"HAVING COUNT(*) >= {int(BIG_MERCHANT_FACTS)}")
    return sorted(int(m) for m in sizes["merchant_id"])


def build_sales_cubes(engine, facts_dir: Path, merchants: list[int]) -> pd.DataFrame:
    """The sales cube of each of `merchants`, one at a time (bounded memory), stored as the mart."""
    columns = None
    frames = []
    for merchant_id in merchants:
        frame = engine.run("sales_cube", {"merchant_id": merchant_id})
        columns = frame.columns
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns or ["merchant_id"])
    write(facts_dir, engine.watermark, "sales_cube", {}, frame, merchants=merchants)
    return frame
