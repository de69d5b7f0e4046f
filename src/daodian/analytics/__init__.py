"""Closed-loop analytics: facts exported to Parquet, one job interface over DuckDB and Spark, the
privacy guard between the results and the merchants who see them (analytics.contract and analytics.export for the facts, analytics.privacy for the guard)."""
