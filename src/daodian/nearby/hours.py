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
from daodian.nearby.growable import Growable


def _expand(offsets: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments (offset, count): (owner index, flat position) of every element of every segment."""
    counts = counts.astype(np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    flat = np.arange(int(counts.sum())) - np.repeat(starts, counts) + np.repeat(offsets, counts)
    return owner, flat


@lru_cache(maxsize=1024)
def zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class WeekHours:
    """Distinct (weekly hours, closed dates) patterns, interned.

    A pattern's spans are [start, end) minutes from Monday 00:00 local time (end may pass the end of
    the week: Sunday night into Monday); closed dates are day ordinals. See merchants.hours.
    """

    ARRAYS = {"span_start": np.int32, "span_end": np.int32, "span_off": np.int64, "span_cnt": np.int32,
              "closed_days": np.int32, "closed_off": np.int64, "closed_cnt": np.int32}

    def __init__(self, arrays: dict[str, np.ndarray] | None = None):
        """Empty, or holding the patterns of `arrays` (a snapshot's); patterns interned later are added
        after them, without looking for equal ones among them."""
        self._ids: dict[tuple[str, str], int] = {}
        for name, dtype in self.ARRAYS.items():
            setattr(self, name, Growable(dtype, array=None if arrays is None else arrays[name]))

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).values for name in self.ARRAYS}

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
            local = now.astimezone(zone_info(tz_names[code]))
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
