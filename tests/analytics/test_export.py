"""`daodian facts export`: incremental, resumable and exactly once, also across a crash at the worst moment."""

import json

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from daodian.analytics.export import MANIFEST, Manifest, bucket_of, export_facts, pending
from daodian.cli import app
from daodian.kit.facts import Fact, append_fact
from daodian.kit.settings import get_settings
from tests.factories import make_merchant, make_store, make_user


def _ids(facts_dir, dataset="facts") -> list[int]:
    return sorted(ds.dataset(facts_dir / dataset, format="parquet", partitioning="hive").to_table(
        columns=["fact_id"]).column("fact_id").to_pylist())


def _db_ids(db) -> list[int]:
    return list(db.scalars(select(Fact.id).order_by(Fact.id)))


def test_export_writes_every_fact_once_partitioned_by_merchant_bucket_and_month(world, db, session_factory,
                                                                                facts_dir):
    report = export_facts(session_factory, facts_dir, batch_size=500)
    assert report.facts == len(_db_ids(db)) and report.batches >= 2
    assert _ids(facts_dir) == _db_ids(db)
    files = list(facts_dir.glob("facts/bucket=*/month=*/*.parquet"))
    assert {p.parent.name for p in files} == {f"month=2024-{m:02d}" for m in range(1, 10)}
    assert {p.parent.parent.name for p in files} == {f"bucket={bucket_of(m)}" for m in world.merchants}
    for path in files:  # one merchant bucket per file, rows sorted by merchant (row-group statistics skip others)
        table = pq.read_table(path)
        merchants = table.column("merchant_id").to_pylist()
        assert merchants == sorted(merchants) and {bucket_of(m) for m in merchants} == {path.parent.parent.name[7:]}
    lines = ds.dataset(facts_dir / "lines", format="parquet", partitioning="hive").to_table()
    expected_lines = sum(len(f["payload"].get("lines", [])) for f in world.facts
                         if f["kind"] in ("consumption.recorded", "consumption.refunded", "order.created"))
    assert lines.num_rows == expected_lines
    assert Manifest.read(facts_dir).watermark == _db_ids(db)[-1]

    again = export_facts(session_factory, facts_dir)  # nothing new: nothing written
    assert (again.facts, again.files) == (0, 0)
    assert _ids(facts_dir) == _db_ids(db)


def test_only_new_facts_are_appended(world, db, session_factory, facts_dir):
    export_facts(session_factory, facts_dir)
    before = _ids(facts_dir)
    fact = append_fact(db, "review.hidden", {"review_id": 1}, merchant_id=world.merchants[0])
    assert pending(session_factory, facts_dir) == 1
    report = export_facts(session_factory, facts_dir)
    assert report.facts == 1 and _ids(facts_dir) == before + [fact.id]


class Crash(Exception):
    pass


def test_a_crash_between_files_and_manifest_adds_nothing_twice(world, db, session_factory, facts_dir):
    def crash_on_second_batch(batch: int) -> None:
        if batch == 2:
            raise Crash()

    with pytest.raises(Crash):
        export_facts(session_factory, facts_dir, batch_size=400, after_files=crash_on_second_batch)
    watermark = Manifest.read(facts_dir).watermark
    assert 0 < watermark < _db_ids(db)[-1]
    assert len(_ids(facts_dir)) > len([i for i in _db_ids(db) if i <= watermark]), "the crashed batch left files"

    append_fact(db, "review.hidden", {"review_id": 2}, merchant_id=world.merchants[0])  # the rerun's batches differ
    report = export_facts(session_factory, facts_dir, batch_size=700)
    assert report.orphans_removed > 0
    assert _ids(facts_dir) == _db_ids(db), "every fact exactly once"
    assert _ids(facts_dir, "lines") == sorted(_ids(facts_dir, "lines"))


def test_readers_ignore_rows_above_the_watermark(world, db, session_factory, facts_dir):
    from daodian.analytics.engines import open_engine

    with pytest.raises(Crash):
        export_facts(session_factory, facts_dir, batch_size=400, after_files=lambda n: (_ for _ in ()).throw(Crash()))
    watermark = Manifest.read(facts_dir).watermark
    assert watermark == 0
    engine = open_engine("duckdb", facts_dir)
    try:
        assert engine.sql("SELECT COUNT(*) AS n FROM facts")["n"][0] == 0
    finally:
        engine.close()


def test_manifest_is_replaced_atomically(world, session_factory, facts_dir):
    export_facts(session_factory, facts_dir)
    assert not list(facts_dir.glob(".*.tmp")) and not list(facts_dir.glob("*/bucket=*/month=*/.*.tmp"))
    assert json.loads((facts_dir / MANIFEST).read_text())["watermark"] > 0


def test_local_dates_follow_the_store_time_zone(db, session_factory, facts_dir):
    from datetime import UTC, datetime

    owner = make_user(db)
    merchant = make_merchant(db, owner)
    store = make_store(db, merchant)
    store.timezone = "Europe/London"
    db.flush()
    late = datetime(2024, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London (BST), 07:30 in Shanghai
    append_fact(db, "review.hidden", {"review_id": 3}, occurred_at=late, merchant_id=merchant.id, store_id=store.id)
    append_fact(db, "review.hidden", {"review_id": 4}, occurred_at=late, merchant_id=merchant.id)
    export_facts(session_factory, facts_dir)
    table = ds.dataset(facts_dir / "facts", format="parquet", partitioning="hive").to_table().to_pylist()
    assert [str(r["local_date"]) for r in table] == ["2024-07-02", "2024-07-02"]  # the merchant's first store's zone
    assert {str(r["month"]) for r in table} == {"2024-07"}  # partitions are UTC months


def test_the_cli_exports_and_reports(settings, facts_dir, monkeypatch):
    """Wiring only (the test database holds no committed facts); the Online Retail tests export real data
    with the command."""
    monkeypatch.setenv("DAODIAN_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["facts", "export", "--facts-dir", str(facts_dir)])
        status = CliRunner().invoke(app, ["facts", "status", "--facts-dir", str(facts_dir)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "facts/s" in result.output and "0 facts pending" in status.output


def test_an_export_in_the_old_daily_layout_is_set_aside_and_redone(world, db, session_factory, facts_dir):
    old = facts_dir / "facts" / "date=2024-01-02" / "part-000000000001-000000000009.parquet"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an export written before the bucket layout")
    Manifest(watermark=9, facts=9).write(facts_dir)
    report = export_facts(session_factory, facts_dir)
    assert report.facts == len(_db_ids(db)) and _ids(facts_dir) == _db_ids(db), "every fact, from the outbox"
    assert not list(facts_dir.glob("facts/date=*")) and len(list(facts_dir.glob(".legacy-*-facts/date=*/*"))) == 1
