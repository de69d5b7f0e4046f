"""`daodian facts export`: the facts outbox, copied to Parquet incrementally, exactly once.

Layout under DAODIAN_FACTS_DIR (the kinds and fields the queries read: analytics.contract):

    _manifest.json                                              {"watermark": last exported fact id, ...}
    facts/bucket=BB/month=YYYY-MM/part-<first>-<last>.parquet    one row per fact
    lines/bucket=BB/month=YYYY-MM/part-<first>-<last>.parquet    one row per sold line (consumption records, orders)

`bucket` is `merchant_id % BUCKETS` (`na`: facts without a merchant, e.g. platform points), so that a
dashboard query reads only its merchant's bucket (analytics.engines.base.snapshot); inside a file rows are
sorted by merchant and the row groups carry min/max statistics, so a reader skips the bucket's other
merchants too. `month` is the UTC month of `occurred_at`: daily partitions meant thousands of tiny files per
merchant at 10M facts (a file open costs more than reading a merchant's month); `local_date` is the column
the queries group by. `<first>-<last>` is the id range of the batch that wrote the file. Exactly once, also
across crashes:
- facts are read in id order above the watermark, and only up to a barrier below which no transaction
  can still add a fact (PostgreSQL hands out ids before commit; SQLite serialises writers anyway);
- each file is written under a temporary name, synced to disk, then renamed into place (and synced
  again); the manifest is replaced atomically only after every file of the batch is in place;
- a file whose first id is above the manifest's watermark belongs to a batch that never committed: the
  next run deletes it before writing, and readers ignore rows above the watermark meanwhile.
The watermark is this consumer's position in the facts outbox (kit.outbox): it reads through
`outbox.read` below `outbox.committed_barrier`, and its cursor there follows the manifest.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from daodian.kit import outbox
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.merchants.models import Store

MANIFEST = "_manifest.json"
DEFAULT_TIMEZONE = "Asia/Shanghai"
BATCH_SIZE = 50_000
OUTBOX_CONSUMER = "analytics.parquet_export"
# What a batch reads of each fact.
COLUMNS = (Fact.id, Fact.kind, Fact.occurred_at, Fact.recorded_at, Fact.merchant_id, Fact.store_id, Fact.consumer_id,
           Fact.payload)
BUCKETS = 64  # merchant buckets: a bucket holds ~1/64 of the merchants (and of the long tail's facts)
ROW_GROUP = 16_384  # rows per Parquet row group: the unit a reader skips by its merchant_id min/max

# Payload fields lifted into typed columns, so that the queries need no JSON functions (which differ
# between DuckDB and Spark). The whole payload stays in `payload` as JSON text.
ID_FIELDS = ("order_id", "payment_id", "refund_id", "record_id", "voucher_id", "verification_id", "review_id",
             "booking_id", "coupon_id", "template_id", "campaign_id", "entry_id")
TS = pa.timestamp("us", tz="UTC")
FACTS_SCHEMA = pa.schema(
    [("fact_id", pa.int64()), ("kind", pa.string()), ("occurred_at", TS), ("local_date", pa.date32()),
     ("recorded_at", TS), ("merchant_id", pa.int64()), ("store_id", pa.int64()), ("consumer_id", pa.int64())]
    + [(name, pa.int64()) for name in ID_FIELDS]
    + [("amount_fen", pa.int64()), ("discount_fen", pa.int64()), ("delta_points", pa.int64()),
       ("rating", pa.int64()), ("channel", pa.string()), ("place", pa.string()), ("account", pa.string()),
       ("currency", pa.string()), ("provider", pa.string()), ("payload", pa.string())])
LINES_SCHEMA = pa.schema([
    ("fact_id", pa.int64()), ("line_no", pa.int64()), ("kind", pa.string()), ("occurred_at", TS),
    ("local_date", pa.date32()), ("merchant_id", pa.int64()), ("store_id", pa.int64()), ("consumer_id", pa.int64()),
    ("order_id", pa.int64()), ("record_id", pa.int64()), ("item_type", pa.string()), ("item_id", pa.int64()),
    ("quantity", pa.int64()), ("amount_fen", pa.int64()), ("currency", pa.string()),
])
DATASETS = {"facts": FACTS_SCHEMA, "lines": LINES_SCHEMA}
LINE_KINDS = frozenset({"consumption.recorded", "consumption.refunded", "order.created"})


@dataclass
class Manifest:
    watermark: int = 0
    facts: int = 0
    lines: int = 0
    updated_at: str | None = None
    runs: list[dict] = field(default_factory=list)  # the last few runs, for the operator

    @classmethod
    def read(cls, facts_dir: Path) -> "Manifest":
        path = facts_dir / MANIFEST
        if not path.exists():
            return cls()
        return cls(**json.loads(path.read_text()))

    def write(self, facts_dir: Path) -> None:
        _atomic_write(facts_dir / MANIFEST, json.dumps(self.__dict__, indent=1).encode())


@dataclass
class ExportReport:
    facts: int = 0
    lines: int = 0
    files: int = 0
    batches: int = 0
    orphans_removed: int = 0
    watermark: int = 0
    seconds: float = 0.0

    @property
    def facts_per_second(self) -> float:
        return self.facts / self.seconds if self.seconds else 0.0


def export_facts(factory: sessionmaker[Session], facts_dir: Path, *, batch_size: int = BATCH_SIZE,
                 on_progress: Callable[[int], None] | None = None,
                 after_files: Callable[[int], None] | None = None) -> ExportReport:
    """Append every fact above the watermark to the Parquet datasets. Safe to rerun at any time.

    `after_files(batch_no)` runs after a batch's files are in place and before the manifest moves on;
    tests raise from it to simulate a crash at the worst moment.
    """
    started = datetime.now(UTC)
    facts_dir.mkdir(parents=True, exist_ok=True)
    _retire_legacy_layout(facts_dir)
    manifest = Manifest.read(facts_dir)
    report = ExportReport(orphans_removed=_remove_orphans(facts_dir, manifest.watermark))
    _sync_cursor(factory, manifest.watermark)  # a new or restored folder: the cursor follows the files
    with unit_of_work(factory) as session:
        barrier = outbox.committed_barrier(session)
    timezones = _timezones(factory)
    while manifest.watermark < barrier:
        with unit_of_work(factory, read_only=True) as session:
            rows = outbox.read(session, after=manifest.watermark, upto=barrier, limit=batch_size, columns=COLUMNS)
        if not rows:
            break
        first, last = rows[0].id, rows[-1].id
        facts, lines = to_tables(rows, timezones)
        report.files += publish(write_partitioned(facts_dir / "facts", facts, first, last)
                                + write_partitioned(facts_dir / "lines", lines, first, last))
        report.batches += 1
        if after_files:
            after_files(report.batches)
        manifest.watermark, manifest.facts, manifest.lines = last, manifest.facts + len(rows), manifest.lines + lines.num_rows
        manifest.updated_at = utcnow().isoformat()
        manifest.write(facts_dir)
        _sync_cursor(factory, manifest.watermark)
        report.facts += len(rows)
        report.lines += lines.num_rows
        if on_progress:
            on_progress(len(rows))
    report.watermark = manifest.watermark
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    if report.facts:
        manifest.runs = (manifest.runs + [{"at": started.isoformat(), "facts": report.facts,
                                           "seconds": round(report.seconds, 3)}])[-20:]
        manifest.write(facts_dir)
    return report


def _retire_legacy_layout(facts_dir: Path) -> bool:
    """An export written before the bucket layout (`<dataset>/date=YYYY-MM-DD/...`) is invisible to the
    readers: set it aside (renamed, not deleted) and start over from the outbox, which holds every fact."""
    if not any(any((facts_dir / dataset).glob("date=*")) for dataset in DATASETS):
        return False
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    for name in (*DATASETS, "marts"):
        if (facts_dir / name).exists():
            os.replace(facts_dir / name, facts_dir / f".legacy-{stamp}-{name}")
    Manifest().write(facts_dir)
    return True


def pending(factory: sessionmaker[Session], facts_dir: Path) -> int:
    """Facts in the database that the Parquet does not hold yet."""
    watermark = Manifest.read(facts_dir).watermark
    with unit_of_work(factory, read_only=True) as session:
        return session.scalar(select(func.count()).select_from(Fact).where(Fact.id > watermark)) or 0


def _sync_cursor(factory: sessionmaker[Session], watermark: int) -> None:
    """The export's position lives with its files (the manifest, written after them); its outbox cursor
    follows, so operators see every consumer's lag in one place (kit.outbox.lag)."""
    with unit_of_work(factory) as session:
        outbox.sync(session, OUTBOX_CONSUMER, watermark)


def _timezones(factory: sessionmaker[Session]) -> dict[tuple[str, int], str]:
    """("store", id) and ("merchant", id) -> IANA time zone; a merchant's is its first store's."""
    zones: dict[tuple[str, int], str] = {}
    with unit_of_work(factory, read_only=True) as session:
        for store_id, merchant_id, tz in session.execute(select(Store.id, Store.merchant_id, Store.timezone)
                                                         .order_by(Store.id)):
            zones[("store", store_id)] = tz
            zones.setdefault(("merchant", merchant_id), tz)
    return zones


def to_tables(rows: list[Any], timezones: dict[tuple[str, int], str]) -> tuple[pa.Table, pa.Table]:
    """Facts rows (id, kind, occurred_at, recorded_at, merchant_id, store_id, consumer_id, payload) -> tables,
    built column by column (one list comprehension and one pyarrow array per column, not per row)."""
    if not rows:
        return FACTS_SCHEMA.empty_table(), LINES_SCHEMA.empty_table()
    ids, kinds, occurred, recorded, merchants, stores, consumers, payloads = (list(c) for c in zip(*rows))
    payloads = [p or {} for p in payloads]
    facts: dict[str, pa.Array] = {
        "fact_id": pa.array(ids, pa.int64()), "kind": pa.array(kinds, pa.string()),
        "occurred_at": pa.array(occurred, TS), "recorded_at": pa.array(recorded, TS),
        "merchant_id": _ints(merchants), "store_id": _ints(stores), "consumer_id": _ints(consumers)}
    for name in ID_FIELDS:
        facts[name] = _ints([p.get(name) for p in payloads])
    facts["amount_fen"] = _ints([_first(p, "amount_fen", "total_fen", "value_fen") for p in payloads])
    facts["discount_fen"] = _ints([p.get("discount_fen") for p in payloads])
    facts["delta_points"] = _ints([p.get("delta_points") for p in payloads])
    facts["rating"] = _ints([p.get("rating_experience") for p in payloads])
    for column, key in (("channel", "channel"), ("place", "at"), ("account", "account"), ("currency", "currency"),
                        ("provider", "provider")):
        facts[column] = pa.array([_str(p.get(key)) for p in payloads], pa.string())
    facts["payload"] = pa.array([json.dumps(p, ensure_ascii=False, sort_keys=True) for p in payloads], pa.string())
    facts["local_date"] = _local_dates(facts["occurred_at"], stores, merchants, timezones)
    facts_table = pa.table({name: facts[name] for name in FACTS_SCHEMA.names}, schema=FACTS_SCHEMA)

    # Lines: the positions of their facts, then each line's own fields.
    owner = [i for i, kind in enumerate(kinds) if kind in LINE_KINDS for _ in (payloads[i].get("lines") or [])]
    items = [line for i, kind in enumerate(kinds) if kind in LINE_KINDS for line in (payloads[i].get("lines") or [])]
    line_no = [n for i, kind in enumerate(kinds) if kind in LINE_KINDS
               for n in range(len(payloads[i].get("lines") or []))]
    take = pa.array(owner, pa.int64())
    is_sku = [line.get("sku_id") is not None for line in items]
    lines = {name: facts_table.column(name).take(take) for name in
             ("fact_id", "kind", "occurred_at", "local_date", "merchant_id", "store_id", "consumer_id", "order_id",
              "record_id")}
    lines |= {"line_no": pa.array(line_no, pa.int64()),
              "item_type": pa.array(["sku" if s else "service" for s in is_sku], pa.string()),
              "item_id": _ints([line.get("sku_id") if s else line.get("service_item_id") for line, s in zip(items, is_sku)]),
              "quantity": _ints([line.get("quantity") for line in items]),
              "amount_fen": _ints([line.get("amount_fen") for line in items]),
              "currency": pa.array([payloads[i].get("currency") or "CNY" for i in owner], pa.string())}
    return facts_table, pa.table({name: lines[name] for name in LINES_SCHEMA.names}, schema=LINES_SCHEMA)


def _ints(values: list) -> pa.Array:
    """int64 column; anything that is not an integer (text, bools, junk) goes through `_int`."""
    if {type(v) for v in values} <= {int, type(None)}:
        return pa.array(values, pa.int64())
    return pa.array([_int(v) for v in values], pa.int64())


def _local_dates(moments: pa.Array, store_ids: list, merchant_ids: list,
                 timezones: dict[tuple[str, int], str]) -> pa.Array:
    """The calendar date in the store's (else the merchant's first store's) time zone: days, weeks and
    months in the reports are the shop's, not UTC's. One conversion per distinct zone."""
    zones = np.array([timezones.get(("store", s)) or timezones.get(("merchant", m)) or DEFAULT_TIMEZONE
                      for s, m in zip(store_ids, merchant_ids)], dtype=object)
    utc = pd.DatetimeIndex(moments.to_numpy(zero_copy_only=False)).tz_localize("UTC")
    out = np.empty(len(zones), dtype="datetime64[D]")
    for zone in pd.unique(zones):
        mask = zones == zone
        out[mask] = utc[mask].tz_convert(zone).tz_localize(None).to_numpy().astype("datetime64[D]")
    return pa.array(out, pa.date32())


def bucket_of(merchant_id: int | None) -> str:
    """The partition a merchant's facts live in (`na`: no merchant)."""
    return "na" if merchant_id is None else f"{int(merchant_id) % BUCKETS:02d}"


def write_partitioned(dataset_dir: Path, table: pa.Table, first: int, last: int) -> list[tuple[Path, Path]]:
    """One file per merchant bucket and UTC month of `occurred_at`, rows sorted by merchant, named by the
    batch's id range (a rerun reuses the name), written under a temporary name; returns (temporary,
    final) pairs for `publish`."""
    if table.num_rows == 0:
        return []
    merchant = table.column("merchant_id").to_numpy(zero_copy_only=False)
    has = ~pd.isna(merchant)
    bucket = np.where(has, np.nan_to_num(merchant.astype("float64"), nan=0).astype(np.int64) % BUCKETS, -1)
    month = table.column("occurred_at").to_numpy(zero_copy_only=False).astype("datetime64[M]").astype(str)
    keys = pd.Series(bucket).astype(str) + "|" + month
    order = [("merchant_id", "ascending"), ("fact_id", "ascending")] + (
        [("line_no", "ascending")] if "line_no" in table.column_names else [])
    staged = []
    for key, positions in sorted(keys.groupby(keys).indices.items()):
        b, m = key.split("|")
        name = "na" if b == "-1" else f"{int(b):02d}"
        target = dataset_dir / f"bucket={name}" / f"month={m}" / f"part-{first:012d}-{last:012d}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp")
        part = table.take(pa.array(positions)).sort_by(order)
        pq.write_table(part, staging, compression="zstd", row_group_size=ROW_GROUP)
        staged.append((staging, target))
    return staged


def publish(staged: list[tuple[Path, Path]]) -> int:
    """Make a batch's files durable, then move them into place, durably: fsync each file, rename it, then
    fsync each directory touched. Not os.sync(): that flushes every dirty page of the machine (another
    process's writes too) and made the export wait on others' I/O."""
    if not staged:
        return 0
    for staging, _ in staged:
        _fsync_file(staging)
    for staging, target in staged:
        os.replace(staging, target)
    for directory in sorted({target.parent for _, target in staged}):
        _fsync_dir(directory)
    return len(staged)


def _remove_orphans(facts_dir: Path, watermark: int) -> int:
    """Delete files (and temporary files) of a batch that wrote files but never moved the manifest."""
    removed = 0
    for dataset in DATASETS:
        for path in (facts_dir / dataset).glob("bucket=*/month=*/*"):
            name = path.name
            staging = name.startswith(".") and name.endswith(".tmp")
            uncommitted = name.startswith("part-") and int(name.split("-")[1]) > watermark
            if staging or uncommitted:
                path.unlink()
                removed += 1
    return removed


def data_files(facts_dir: Path, dataset: str, merchant_id: int | None = None) -> list[Path]:
    """The dataset's files; with `merchant_id`, only those of its bucket (the only ones holding its rows)."""
    bucket = "*" if merchant_id is None else bucket_of(merchant_id)
    return sorted((facts_dir / dataset).glob(f"bucket={bucket}/month=*/part-*.parquet"))


def _atomic_write(path: Path, data: bytes) -> None:
    staging = path.with_name(f".{path.name}.tmp")
    with open(staging, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(staging, path)
    _fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _first(payload: dict, *names: str) -> Any:
    for name in names:
        if payload.get(name) is not None:
            return payload[name]
    return None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
