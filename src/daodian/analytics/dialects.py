"""Where DuckDB's and Spark's SQL differ (day arithmetic), the expression each writes (analytics.queries)."""

from abc import ABC, abstractmethod


class Dialect(ABC):
    name = "abstract"

    @abstractmethod
    def days_between(self, start: str, end: str) -> str:
        """SQL for the whole days from start to end (dates)."""

    def add_days(self, day: str, n: int) -> str:
        return f"({day} + {int(n)})"


class DuckDialect(Dialect):
    name = "duckdb"

    def days_between(self, start: str, end: str) -> str:
        return f"CAST(({end}) - ({start}) AS BIGINT)"


class SparkDialect(Dialect):
    name = "spark"

    def days_between(self, start: str, end: str) -> str:
        return f"CAST(datediff({end}, {start}) AS BIGINT)"
