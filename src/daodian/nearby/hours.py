"""Opening hours of many stores at once, for the nearby index.

Stores share a few weekly patterns, so each distinct (hours, closed dates) pair is interned once;
whether the candidates of a query are open is then a handful of numpy operations over their
patterns, in each store's own time zone, following exactly the rule of merchants.hours.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from daodian.merchants.hours import MINUTES_PER_DAY, MINUTES_PER_WEEK


class Growable:
    """A numpy array with spare capacity: appends are amortised O(1), writes in place."""

    def __init__(self, dtype, capacity: int = 1024):
        self.array = np.zeros(max(capacity, 16), dtype=dtype)
        self.n = 0

    def extend(self, values) -> int:
        """Append values; returns the position of the first."""
        values = np.asarray(values, dtype=self.array.dtype)
        start, end = self.n, self.n + len(values)
        if end > len(self.array):
            grown = np.zeros(max(end, 2 * len(self.array)), dtype=self.array.dtype)
            grown[:start] = self.array[:start]
            self.array = grown  # readers holding the old array still see valid (older) values
        self.array[start:end] = values
        self.n = end
        return start


def _expand(offsets: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments (offset, count): (owner index, flat position) of every element of every segment."""
    counts = counts.astype(np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    flat = np.arange(int(counts.sum())) - np.repeat(starts, counts) + np.repeat(offsets, counts)
    return owner, flat


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class WeekHours:
    """Distinct (weekly hours, closed dates) patterns, interned.

    A pattern's spans are [start, end) minutes from Monday 00:00 local time (end may pass the end of
    the week: Sunday night into Monday); closed dates are day ordinals. See merchants.hours.
    """

    def __init__(self):
        self._ids: dict[tuple[str, str], int] = {}
        self.span_start, self.span_end = Growable(np.int32), Growable(np.int32)
        self.span_off, self.span_cnt = Growable(np.int64), Growable(np.int32)
        self.closed_days = Growable(np.int32)
        self.closed_off, self.closed_cnt = Growable(np.int64), Growable(np.int32)

    def intern(self, hours_json: str | None, closed_json: str | None) -> int:
        key = (hours_json or "[]", closed_json or "[]")
        found = self._ids.get(key)
        if found is None:
            spans = [((wd - 1) * MINUTES_PER_DAY + o, (wd - 1) * MINUTES_PER_DAY + c) for wd, o, c in json.loads(key[0])]
            days = [date.fromisoformat(d).toordinal() for d in json.loads(key[1])]
            self.span_cnt.extend([len(spans)])
            self.span_off.extend([self.span_start.extend([s for s, _ in spans])])
            self.span_end.extend([e for _, e in spans])
            self.closed_cnt.extend([len(days)])
            found = self.closed_off.extend([self.closed_days.extend(days)])
            self._ids[key] = found
        return found

    def open_at(self, patterns: np.ndarray, tz_codes: np.ndarray, tz_names: list[str], now: datetime) -> np.ndarray:
        """Whether each (pattern, time zone) is open at `now`: the rule of merchants.hours, vectorised."""
        n = len(patterns)
        minute, today, weekday = (np.zeros(n, np.int64) for _ in range(3))
        for code in np.unique(tz_codes):
            local = now.astimezone(_zone(tz_names[code]))
            at = tz_codes == code
            minute[at] = (local.isoweekday() - 1) * MINUTES_PER_DAY + local.hour * 60 + local.minute
            today[at], weekday[at] = local.date().toordinal(), local.isoweekday() - 1
        owner, flat = _expand(self.span_off.array[patterns], self.span_cnt.array[patterns])
        start, end, m = self.span_start.array[flat], self.span_end.array[flat], minute[owner]
        hit = ((start <= m) & (m < end)) | ((start <= m + MINUTES_PER_WEEK) & (m + MINUTES_PER_WEEK < end))
        owner, start = owner[hit], start[hit]
        # An interval belongs to the day it starts on (today, or yesterday when past midnight), also
        # for closed dates: drop hits whose start day is a closed date of the pattern.
        started = today[owner] - (weekday[owner] - start // MINUTES_PER_DAY) % 7
        hit_pattern = patterns[owner]
        pair, cflat = _expand(self.closed_off.array[hit_pattern], self.closed_cnt.array[hit_pattern])
        closed = np.zeros(len(owner), dtype=bool)
        closed[pair[self.closed_days.array[cflat] == started[pair]]] = True
        result = np.zeros(n, dtype=bool)
        result[owner[~closed]] = True
        return result
