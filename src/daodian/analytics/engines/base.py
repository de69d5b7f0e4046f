"""The job interface both engines implement, and the normal form of their results."""

from pathlib import Path
from typing import Protocol

import pandas as pd

from daodian.analytics import queries
from daodian.analytics.export import DATASETS, Manifest, data_files


class Engine(Protocol):
    name: str

    def run(self, query: str, params: dict | None = None) -> pd.DataFrame:
        """Run the named query (analytics.queries.QUERIES) and return its rows in normal form."""

    def sql(self, text: str, merchant_id: int | None = None) -> pd.DataFrame:
        """Raw SQL over the views (every merchant's rows, or one merchant's)."""

    def close(self) -> None: ...


def snapshot(facts_dir: Path, merchant_id: int | None = None) -> tuple[int, dict[str, list[Path]]]:
    """(watermark, data files per dataset): what a reader may see. Rows above the watermark belong to
    a batch whose export has not finished, and are filtered out. With `merchant_id`: only the files of
    its bucket (analytics.export), the only ones that can hold its rows."""
    return Manifest.read(facts_dir).watermark, {name: data_files(facts_dir, name, merchant_id) for name in DATASETS}


def scope_of(query: str, params: dict | None) -> int | None:
    """The merchant a named query is about (None: every merchant), from its validated parameters: an
    engine shows the query only that merchant's rows, so it reads nothing else."""
    merchant_id = queries.QUERIES[query].params(params or {}).get("merchant_id")
    return None if merchant_id is None else int(merchant_id)


