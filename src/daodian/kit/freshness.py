"""Keep a per-process in-memory index in step with the database by polling a watermark.

Each process answers hot reads (nearby, search) from memory. Before answering, it asks the
database for rows changed since its watermark, at most once per `interval_s`, so a change made
through any process is visible everywhere within about one interval, on SQLite and PostgreSQL
alike, with no broker. The watermark is re-read with an `overlap`, because a transaction that
stamped `updated_at` earlier may commit after a later one; applying a row twice is harmless.
"""

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)  # the watermark of an index built from an empty table

FetchChanged = Callable[[Session, datetime], Sequence[Any]]
ApplyChanged = Callable[[Sequence[Any]], None]


class Freshness:
    def __init__(self, *, interval_s: float = 0.5, overlap: timedelta = timedelta(seconds=30)):
        self.interval_s = interval_s
        self.overlap = overlap
        self.watermark: datetime | None = None
        self._last_poll = 0.0
        self._lock = threading.Lock()

    def start_from(self, watermark: datetime | None) -> None:
        """Record where a full load stopped (the newest `updated_at` it saw)."""
        self.watermark = watermark
        self._last_poll = time.monotonic()

    def poll(self, session: Session, fetch_changed: FetchChanged, apply: ApplyChanged,
             updated_at: Callable[[Any], datetime], *, force: bool = False) -> int:
        """Apply rows changed since the watermark if an interval has passed; returns how many."""
        if not force and time.monotonic() - self._last_poll < self.interval_s:
            return 0
        if not self._lock.acquire(blocking=force):
            return 0  # another request of this process is polling right now
        try:
            self._last_poll = time.monotonic()
            since = self.watermark - self.overlap if self.watermark else BEGINNING
            rows = fetch_changed(session, since)
            if rows:
                apply(rows)
                self.watermark = max([updated_at(r) for r in rows] + ([self.watermark] if self.watermark else []))
            return len(rows)
        finally:
            self._lock.release()
