"""A merchant's dashboard reads only its merchant's data: its bucket's files, and the job's pre-aggregates."""

from datetime import date

import pandas as pd

from daodian.analytics import marts, rfm
from daodian.analytics.engines.duckdb_engine import DuckDBEngine
from daodian.analytics.export import bucket_of, data_files
from daodian.analytics.service import Analytics

AS_OF = date(2024, 9, 10)


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.sort_values(list(frame.columns), key=lambda c: c.map(repr)).reset_index(drop=True)


def test_a_merchant_query_reads_no_other_bucket(exported, facts_dir):
    mine, others = exported.merchants[0], exported.merchants[1:]
    assert bucket_of(mine) not in {bucket_of(m) for m in others}, "the test merchants share no bucket"
    params = rfm.Thresholds().params(AS_OF, mine)
    engine = DuckDBEngine(facts_dir, materialize=False)
    try:
        before = {q: engine.run(q, p) for q, p in (("sales_cube", {"merchant_id": mine}), ("rfm", params),
                                                   ("coupon_funnel", {"merchant_id": mine}))}
    finally:
        engine.close()
    for merchant in others:  # other merchants' files become unreadable: my queries never open them
        for dataset in ("facts", "lines"):
            for path in data_files(facts_dir, dataset, merchant):
                path.write_bytes(b"not parquet")
    engine = DuckDBEngine(facts_dir, materialize=False)
    try:
        for query, frame in before.items():
            after = engine.run(query, {"merchant_id": mine} if query != "rfm" else params)
            assert len(after) > 0
            pd.testing.assert_frame_equal(_canonical(after), _canonical(frame), obj=query)
        assert set(engine.sql("SELECT DISTINCT merchant_id FROM facts", mine)["merchant_id"]) == {mine}
    finally:
        engine.close()


def test_the_job_writes_marts_that_answer_like_the_live_query(exported, analytics_settings, session_factory,
                                                              facts_dir, monkeypatch):
    monkeypatch.setattr(marts, "BIG_MERCHANT_FACTS", 300)  # the test's merchants are small: two count as big
    live = DuckDBEngine(facts_dir)
    thresholds = rfm.Thresholds()
    big = marts.big_merchants(live)
    assert 0 < len(big) < len(exported.merchants)
    cases = [("sales_cube", {"merchant_id": m}) for m in big] + [
        ("rfm", thresholds.params(AS_OF, m)) for m in exported.merchants] + [(q, {}) for q in marts.WHOLE]
    try:
        expected = [live.run(q, p) for q, p in cases]
    finally:
        live.close()
    for _ in range(2):
        Analytics(analytics_settings, engine="duckdb").run_job(session_factory, as_of=AS_OF)
    for (query, params), frame in zip(cases, expected):
        stored = marts.lookup(facts_dir, live.watermark, query, params)
        assert stored is not None, f"{query} has a mart"
        pd.testing.assert_frame_equal(_canonical(stored), _canonical(frame), obj=f"{query} {params}")
    small = next(m for m in exported.merchants if m not in big)
    assert marts.lookup(facts_dir, live.watermark, "sales_cube", {"merchant_id": small}) is None, "small: live"
    # Another as_of or another export: not what the mart was computed for, so the query runs live.
    assert marts.lookup(facts_dir, live.watermark, "rfm", thresholds.params(date(2024, 9, 11), 1)) is None
    assert marts.lookup(facts_dir, live.watermark + 1, "sales_cube", {"merchant_id": exported.merchants[0]}) is None
    assert len(list((facts_dir / marts.DIRECTORY).glob("*.parquet"))) == len(marts.MARTS), "a rerun replaces"
