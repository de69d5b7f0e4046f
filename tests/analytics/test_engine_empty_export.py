"""A DuckDB engine over an export with nothing in it yet answers every merchant's query with no rows, also after a
query across all merchants loaded the (empty) whole export (it used to look for a table never made)."""

from daodian.analytics.engines.duckdb_engine import DuckDBEngine


def test_a_merchant_query_after_an_everyone_query_on_an_empty_export(tmp_path):
    engine = DuckDBEngine(tmp_path / "facts", materialize=True)
    try:
        assert engine.sql("SELECT COUNT(*) AS n FROM facts")["n"].tolist() == [0]
        assert engine.sql("SELECT COUNT(*) AS n FROM facts", merchant_id=7)["n"].tolist() == [0]
        assert engine.sql("SELECT COUNT(*) AS n FROM lines", merchant_id=8)["n"].tolist() == [0]
    finally:
        engine.close()
