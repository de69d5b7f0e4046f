"""Whether the category trees changed, for the per-process indexes built from them (search, nearby).

The trees change with a deploy (the seed sync runs before the servers start) and when an operator edits them in
the console (taxonomy.editing). Every server process keeps what it read of them, so each asks, at most every
`interval_s`, for a stamp that any edit changes, and reads the trees again when it did: an operator's new
category is searchable and listed near people within seconds, in every process, without a restart.
"""

import time

from sqlalchemy.orm import Session

from daodian.taxonomy import repository

CHECK_EVERY_S = 5.0


class TreeWatch:
    def __init__(self, interval_s: float = CHECK_EVERY_S) -> None:
        self.interval_s = interval_s
        self.stamp: tuple | None = None
        self.next_check = 0.0

    def remember(self, session: Session) -> None:
        """The trees as they are now are what the caller has read (call it when reading them)."""
        self.stamp = repository.edits_stamp(session)
        self.next_check = time.monotonic() + self.interval_s

    def changed(self, session: Session) -> bool:
        """True once after an edit since the last `remember` (or the first look); a read at most every
        interval, a clock comparison otherwise."""
        now = time.monotonic()
        if now < self.next_check:
            return False
        self.next_check = now + self.interval_s
        stamp = repository.edits_stamp(session)
        if stamp == self.stamp:
            return False
        first, self.stamp = self.stamp is None, stamp
        return not first
