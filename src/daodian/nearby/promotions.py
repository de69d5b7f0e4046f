"""The paid promotions the nearby index knows of, by store slot: their windows and the store's categories.

Promotions are few, so a query checks them all: which are running now, for a listed store of the
query's categories, within its radius. Those are always candidates (a promotion slot may lift one from
anywhere in the results, docs/ranking.md). Each change makes a new Promotions, read whole by a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from daodian.geo.distance import haversine_m_arrays
from daodian.nearby.postings import ALL
from daodian.nearby.table import StoreTable

Window = tuple[float, float]  # epoch seconds, [start, end)


@dataclass(frozen=True)
class Promotions:
    windows: dict[int, tuple[Window, ...]] = field(default_factory=dict)
    codes: dict[int, frozenset[int]] = field(default_factory=dict)  # slot -> category codes, ALL included
    _flat: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.empty(0, np.int64), np.empty(0), np.empty(0))

    def changed(self, stores: list[tuple[int, tuple[Window, ...], tuple[int, ...]]]) -> Promotions:
        """After these (slot, windows, category codes) changes; no windows: no promotion any more."""
        if not stores and not self.windows:
            return self
        windows, codes = dict(self.windows), dict(self.codes)
        for slot, these, cats in stores:
            if these:
                windows[slot], codes[slot] = these, frozenset((ALL, *cats))
            else:
                windows.pop(slot, None)
                codes.pop(slot, None)
        flat = [(slot, s, e) for slot, these in windows.items() for s, e in these]
        return Promotions(windows, codes, (np.array([f[0] for f in flat], dtype=np.int64),
                                           np.array([f[1] for f in flat], dtype=np.float64),
                                           np.array([f[2] for f in flat], dtype=np.float64)))

    def running(self, table: StoreTable, lat: float, lng: float, radius_m: float, codes: list[int],
                now: datetime) -> np.ndarray:
        """Slots of listed stores of these categories within the radius with a promotion running now."""
        slots, starts, ends = self._flat
        if not len(slots):
            return slots
        t = now.timestamp()
        wanted = set(codes)
        slots = [s for s in np.unique(slots[(starts <= t) & (t < ends)]).tolist()
                 if table.col("listed")[s] and not wanted.isdisjoint(self.codes[s])]
        slots = np.array(slots, dtype=np.int64)
        return slots[haversine_m_arrays(lat, lng, table.col("lat")[slots], table.col("lng")[slots]) <= radius_m]
