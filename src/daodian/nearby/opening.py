"""Whether stores are open now, for thousands of candidates a query: from a cache per opening rule.

Stores share a few rules, a rule being (weekly hours, closed dates, time zone). Whether a rule is open
can only change when the minute does in its zone, so answers are kept with the UTC minute they are
good for: while rules are few, every rule's at once; when they are many (stores with their own closed
dates), per rule, worked out only for the rules of a query's candidates not known for this minute.
Either way nearby.hours does the work (the rule of merchants.hours, vectorised). A zone whose offset
from UTC is not a whole number of minutes (historical mean solar times) changes minute at other
moments: then nothing is kept.
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np

from daodian.nearby.growable import Growable
from daodian.nearby.hours import WeekHours, zone_info

_UNKNOWN = -1
_EVERY_RULE_UP_TO = 5_000  # below this many rules, work out all of them once a minute


class OpeningRules:
    def __init__(self, hours: WeekHours | None = None, tz_names: list[str] | None = None,
                 pattern: np.ndarray | None = None, tz: np.ndarray | None = None):
        self.hours = hours or WeekHours()
        self.tz_names = list(tz_names or [])
        self._tz_codes = {name: i for i, name in enumerate(self.tz_names)}
        self.pattern = Growable(np.int32, array=pattern)  # per rule: its pattern in `hours`
        self.tz = Growable(np.int16, array=tz)  # per rule: its zone in `tz_names`
        self._ids: dict[tuple[str, str, str], int] = {}
        # Per rule: minute * 2 + open, in one int64 each, so a reader never pairs one minute's flag
        # with another minute (threads fill it at once).
        self._known = np.full(max(self.pattern.n, 16), _UNKNOWN, dtype=np.int64)
        # (minute, rules then, open flags of all of them), swapped as one.
        self._every: tuple[int, int, np.ndarray] = (-1, 0, np.zeros(0, dtype=bool))
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.pattern.n

    def arrays(self) -> dict[str, np.ndarray]:
        return {"rule_pattern": self.pattern.values, "rule_tz": self.tz.values,
                **{f"hours_{k}": v for k, v in self.hours.arrays().items()}}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], tz_names: list[str]) -> OpeningRules:
        hours = WeekHours({k: arrays[f"hours_{k}"] for k in WeekHours.ARRAYS})
        return cls(hours, tz_names, arrays["rule_pattern"], arrays["rule_tz"])

    def rule(self, hours_json: str | None, closed_json: str | None, tz: str) -> int:
        key = (hours_json or "[]", closed_json or "[]", tz)
        found = self._ids.get(key)
        if found is None:
            with self._lock:
                code = self._tz_codes.get(tz)
                if code is None:
                    code = self._tz_codes[tz] = len(self.tz_names)
                    self.tz_names.append(tz)
                self.tz.extend([code])
                found = self._ids[key] = self.pattern.extend([self.hours.intern(key[0], key[1])])
        return found

    def open_at(self, rules: np.ndarray, now: datetime) -> np.ndarray:
        """Whether each rule is open at `now` (merchants.hours)."""
        minute = int(now.timestamp() // 60)
        known_minute, count, bits = self._every
        if known_minute == minute and count == len(self):
            return bits[rules]
        if len(self) <= _EVERY_RULE_UP_TO:
            return self._work_out_every(minute, now)[rules]
        return self._by_rule(rules, minute, now)

    def every(self, now: datetime) -> np.ndarray:
        """Whether each rule is open at `now`, indexed by rule (for nearby.kernel): kept for the minute."""
        minute = int(now.timestamp() // 60)
        known_minute, count, bits = self._every
        if known_minute == minute and count == len(self):
            return bits
        return self._work_out_every(minute, now)

    def _work_out_every(self, minute: int, now: datetime) -> np.ndarray:
        """Every rule at once: a handful of numpy operations while rules are few."""
        count = len(self)
        zones = self.tz.array[:count]
        bits = self.hours.open_at(self.pattern.array[:count], zones, self.tz_names, now)
        if all(self._whole_minutes(z, now) for z in np.unique(zones).tolist()):
            self._every = (minute, count, bits)
        return bits

    def _whole_minutes(self, zone: int, now: datetime) -> bool:
        return now.astimezone(zone_info(self.tz_names[zone])).utcoffset().total_seconds() % 60 == 0

    def _by_rule(self, rules: np.ndarray, minute: int, now: datetime) -> np.ndarray:
        """Only the rules asked for, each kept for its minute: rules are many (every store its own)."""
        known = self._known
        if len(known) < self.pattern.n:
            with self._lock:
                grown = np.full(2 * self.pattern.n, _UNKNOWN, dtype=np.int64)
                grown[: len(self._known)] = self._known
                self._known = known = grown
        state = known[rules]
        fresh = (state >> 1) == minute
        if fresh.all():
            return (state & 1).astype(bool)
        stale = np.unique(rules[~fresh])
        zones = self.tz.array[stale]
        is_open = self.hours.open_at(self.pattern.array[stale], zones, self.tz_names, now)
        whole = {z: self._whole_minutes(z, now) for z in np.unique(zones).tolist()}
        cacheable = np.array([whole[z] for z in zones.tolist()], dtype=bool)
        known[stale[cacheable]] = minute * 2 + is_open[cacheable]
        result = (state & 1).astype(bool)
        result[~fresh] = is_open[np.searchsorted(stale, rules[~fresh])]
        return result
