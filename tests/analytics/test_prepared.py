"""The job prepares the big merchants' dashboards (analytics.prepared): they answer exactly what a live build
answers, without reading a fact, and only for the export, k and parameters they were built with."""

from datetime import UTC, date, datetime

import duckdb
import pandas as pd
import pytest
from sqlalchemy import insert

from daodian.accounts.models import User
from daodian.analytics import marts, prepared
from daodian.analytics.engines import duckdb_engine
from daodian.analytics.engines.duckdb_engine import DuckDBEngine
from daodian.analytics.export import Manifest, bucket_of, data_files, export_facts
from daodian.analytics.service import MERCHANT_REPORTS, TABLE_OF, Analytics, Params
from daodian.kit.facts import Fact
from tests.factories import principal_of

AS_OF = date(2024, 9, 10)
PAGE = Params(as_of=AS_OF)  # the page's parameters (grain and period are chosen from the tables, not built in)


def _same(got: pd.DataFrame, expected: pd.DataFrame, what: str) -> None:
    """Same columns, dtypes and rows; the row order of a query's result is not defined (both are sorted)."""
    assert got.dtypes.to_dict() == expected.dtypes.to_dict(), what

    def canonical(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype(object).where(frame.notna(), None)
        return frame.sort_values(list(frame.columns), key=lambda c: c.map(repr)).reset_index(drop=True)

    pd.testing.assert_frame_equal(canonical(got), canonical(expected), check_exact=True, obj=what)


def _live(settings, db, merchant_id: int) -> tuple[dict, dict]:
    """Every table and report of one merchant, built by a fresh engine over the Parquet alone."""
    analytics = Analytics(settings, engine="duckdb")
    engine = DuckDBEngine(settings.facts_dir)
    try:
        built = {table: analytics.table_builder(table, merchant_id, PAGE, AS_OF)[0](engine)
                 for table in dict.fromkeys(TABLE_OF.values())}
    finally:
        engine.close()
    answers = {name: analytics.report_from(db, merchant_id, name, PAGE, built[TABLE_OF[name]], AS_OF)
               for name in MERCHANT_REPORTS}
    return built, answers


@pytest.fixture
def big_and_small(exported, facts_dir, monkeypatch):
    """The world's merchants split by the job's threshold, lowered so that the test's small merchants qualify."""
    monkeypatch.setattr(marts, "BIG_MERCHANT_FACTS", 300)
    engine = DuckDBEngine(facts_dir)
    try:
        big = marts.big_merchants(engine)
    finally:
        engine.close()
    small = [m for m in exported.merchants if m not in big]
    assert big and small
    assert len({bucket_of(m) for m in exported.merchants}) == len(exported.merchants), "one bucket each"
    return big, small


def test_a_prepared_dashboard_answers_like_a_live_build_and_reads_no_fact(big_and_small, exported, analytics_settings,
                                                                          session_factory, facts_dir, db):
    big, small = big_and_small
    expected = {m: _live(analytics_settings, db, m) for m in exported.merchants}  # before the job: no marts at all
    analytics = Analytics(analytics_settings, engine="duckdb")
    analytics.run_job(session_factory, as_of=AS_OF)
    watermark = Manifest.read(facts_dir).watermark

    for merchant_id in big:
        built, _ = expected[merchant_id]
        for table, frame in built.items():
            _, extra = analytics.table_builder(table, merchant_id, PAGE, AS_OF)
            stored = prepared.read(facts_dir, watermark, analytics.k, merchant_id, table, extra)
            assert stored is not None, f"{table} of merchant {merchant_id} is prepared"
            _same(stored, frame, f"{table} of merchant {merchant_id}")
        for dataset in ("facts", "lines"):  # from now on a live build of a big merchant would fail
            for path in data_files(facts_dir, dataset, merchant_id):
                path.write_bytes(b"not parquet")
    for merchant_id in small:
        assert all(prepared.read(facts_dir, watermark, analytics.k, merchant_id, table,
                                 analytics.table_builder(table, merchant_id, PAGE, AS_OF)[1]) is None
                   for table in TABLE_OF.values()), "a small merchant's dashboard is built live"

    owner = principal_of(db, db.get(User, exported.owner))
    for merchant_id in exported.merchants:
        _, answers = expected[merchant_id]
        for name in MERCHANT_REPORTS:
            report = analytics.merchant_report(db, owner, merchant_id, name, PAGE)
            assert (report.columns, report.rows) == (answers[name].columns, answers[name].rows), (merchant_id, name)
        assert answers["sales"].rows and answers["segments"].rows, f"merchant {merchant_id} shows figures"


def test_a_prepared_table_answers_only_for_its_export_k_and_parameters(big_and_small, exported, analytics_settings,
                                                                       session_factory, facts_dir, db):
    big, _ = big_and_small
    merchant_id = big[0]
    analytics = Analytics(analytics_settings, engine="duckdb")
    analytics.run_job(session_factory, as_of=AS_OF)
    watermark, k = Manifest.read(facts_dir).watermark, analytics.k
    assert prepared.read(facts_dir, watermark, k, merchant_id, "segments", (AS_OF,)) is not None
    assert prepared.read(facts_dir, watermark, k, merchant_id, "follow-attribution", (30,)) is not None
    for miss in ((watermark + 1, k, "sales", ()), (watermark, k + 1, "sales", ()),
                 (watermark, k, "segments", (date(2024, 9, 11),)), (watermark, k, "follow-attribution", (7,))):
        assert prepared.read(facts_dir, miss[0], miss[1], merchant_id, miss[2], miss[3]) is None, miss

    # A new export: the prepared tables describe the old one, so the dashboard is built live and shows the sale.
    owner = principal_of(db, db.get(User, exported.owner))
    before = analytics.merchant_report(db, owner, merchant_id, "sales", PAGE).rows[-1]["amount_fen"]
    at = datetime(2024, 9, 1, 3, 0, tzinfo=UTC)
    store = exported.stores[merchant_id][0]
    db.execute(insert(Fact), [{"kind": "consumption.recorded", "occurred_at": at, "recorded_at": at,
                               "merchant_id": merchant_id, "store_id": store, "consumer_id": None,
                               "payload": {"record_id": 987_654, "receipt_id": "R-new", "total_fen": 12_345,
                                           "currency": "CNY", "lines": [{"sku_id": merchant_id * 1000 + 1,
                                                                         "service_item_id": None, "quantity": 1,
                                                                         "amount_fen": 12_345}]}}])
    db.flush()
    export_facts(session_factory, facts_dir)
    assert Manifest.read(facts_dir).watermark > watermark
    after = analytics.merchant_report(db, owner, merchant_id, "sales", PAGE).rows[-1]["amount_fen"]
    assert after == before + 12_345


def test_a_merchant_query_opens_its_bucket_only_and_the_whole_export_when_first_needed(exported, facts_dir):
    mine, others = exported.merchants[0], exported.merchants[1:]
    assert bucket_of(mine) not in {bucket_of(m) for m in others}, "the test merchants share no bucket"
    reference = DuckDBEngine(facts_dir)
    try:
        expected = reference.run("retention", {"merchant_id": mine})
    finally:
        reference.close()
    for merchant_id in others:
        for dataset in ("facts", "lines"):
            for path in data_files(facts_dir, dataset, merchant_id):
                path.write_bytes(b"not parquet")
    engine = DuckDBEngine(facts_dir)  # the default: a small export is loaded whole, but only once a query needs it
    try:
        _same(engine.run("retention", {"merchant_id": mine}), expected, "retention")
        with pytest.raises(duckdb.Error):  # every merchant's rows: now the other buckets are read
            engine.sql("SELECT COUNT(*) AS n FROM facts")
    finally:
        engine.close()


def test_merchants_beyond_the_bounds_are_forgotten_and_read_again_alike(exported, facts_dir, monkeypatch):
    expected = {}
    for merchant_id in exported.merchants:
        fresh = DuckDBEngine(facts_dir)
        try:
            expected[merchant_id] = fresh.run("sales_cube", {"merchant_id": merchant_id})
        finally:
            fresh.close()
    monkeypatch.setattr(duckdb_engine, "KEPT_MERCHANTS", 2)
    engine = DuckDBEngine(facts_dir, materialize=False)
    try:
        first, *rest = exported.merchants
        for merchant_id in (first, *rest, first, *reversed(rest)):
            _same(engine.run("sales_cube", {"merchant_id": merchant_id}), expected[merchant_id], str(merchant_id))
            copies = engine.con.execute("SELECT COUNT(*) FROM duckdb_tables() WHERE table_name LIKE 'facts_m%'"
                                        ).fetchall()[0][0]
            assert copies <= 2, "at most KEPT_MERCHANTS merchants stay in memory"
    finally:
        engine.close()
