"""DuckDB and Spark give identical results on the same Parquet, for every named query."""

from datetime import date

import pandas as pd
import pytest

from daodian.analytics.engines import open_engine
from daodian.analytics.export import export_facts
from daodian.analytics.queries import QUERIES
from tests.analytics import generate

pytestmark = pytest.mark.slow
NOBODY = 987_654_321  # a merchant without facts


def _params(world) -> dict[str, list[dict]]:
    m = world.merchants
    return {
        # One case per query (Spark costs seconds per query even on small data), one merchant without facts
        # where a grand-total grouping set could answer a row for nothing; the rest covers both scopes: one
        # merchant's rows (its bucket) and every merchant's.
        "sales_cube": [{"merchant_id": m[0]}],
        "sku_sales": [{"merchant_id": m[1], "grain": "week"}],
        "coupon_funnel": [{"merchant_id": m[0]}],
        "coupon_attribution": [{"merchant_id": m[0]}],
        "follow_attribution": [{"merchant_id": m[0], "window_days": 30}, {"merchant_id": NOBODY, "window_days": 7}],
        "retention": [{"merchant_id": m[0]}],
        "rfm": [{"as_of": date(2024, 9, 10), "new_days": 60}],
        "merchant_overview": [{}],
        "platform_months": [{}],
        "fact_kinds": [{}],
    }


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.sort_values(list(frame.columns), key=lambda c: c.map(repr)).reset_index(drop=True)


@pytest.fixture
def small(db, session_factory, facts_dir):
    """Two merchants, fewer facts than the other tests: Spark's time per query grows with the data even here."""
    world = generate.build(db, sizes=(160, 40), members=60)
    export_facts(session_factory, facts_dir)
    return world


def test_duckdb_and_spark_agree_on_every_query(small, facts_dir, spark):
    cases = _params(small)
    assert set(cases) == set(QUERIES), "every named query is compared"
    duck, sparky = open_engine("duckdb", facts_dir), open_engine("spark", facts_dir)
    try:
        for name, param_sets in cases.items():
            for params in param_sets:
                a, b = duck.run(name, params), sparky.run(name, params)
                assert list(a.columns) == list(b.columns), name
                if params.get("merchant_id") == NOBODY:  # empty input: both engines answer no rows
                    assert len(a) == len(b) == 0, f"{name} on no data"
                    continue
                assert len(a) > 0, f"{name} {params}: no rows, nothing compared"
                pd.testing.assert_frame_equal(_canonical(a), _canonical(b), obj=f"{name} {params}")
        segments = set(duck.run("rfm", {"as_of": date(2024, 9, 10), "new_days": 60})["segment"])
        assert segments == {"new", "won_back", "active", "at_risk", "churned"}, "every rule was exercised"
    finally:
        duck.close()
        sparky.close()
