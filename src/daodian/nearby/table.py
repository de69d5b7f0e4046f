"""What the nearby index knows of every store, one numpy column per field, addressed by slot.

A store's slot is its row in the columns and never moves once the table is sealed. A build puts the
stores in the order of their grid cell along a Z curve, best first within a cell (nearby.grid), so the
stores a query scores sit close together in memory; an id is found by a binary search through the ids'
order. Stores added later are appended and found by a dict. Only what the ranking needs is kept: a
result is shown from the database. Positions are WGS-84 degrees, from which great-circle distances
come by haversine. A store's opening rule (nearby.opening) says when it is open; a paused store's rule
never is. Integer columns are int32 while their values fit (Growable.fit widens them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from daodian.geo import ranking
from daodian.merchants.models import MerchantStatus, StoreStatus
from daodian.nearby.growable import Growable
from daodian.nearby.opening import OpeningRules

STATUS_CODE = {StoreStatus.OPEN: 0, StoreStatus.PAUSED: 1, StoreStatus.CLOSED: 2}
OPEN, CLOSED = STATUS_CODE[StoreStatus.OPEN], STATUS_CODE[StoreStatus.CLOSED]

COLUMNS: dict[str, tuple[Any, int | None]] = {
    "id": (np.int32, None), "merchant_id": (np.int64, None), "lat": (np.float64, None), "lng": (np.float64, None),
    "status": (np.int8, None), "rule": (np.int32, None), "rating_avg": (np.float64, None),
    "rating_count": (np.int32, None), "popularity": (np.int32, None), "listed": (np.bool_, None)}


class StoreTable:
    def __init__(self, arrays: dict[str, np.ndarray] | None = None, rules: OpeningRules | None = None):
        arrays = arrays or {}
        self.cols = {name: Growable(dtype, width=width, array=arrays.get(name)) for name, (dtype, width) in COLUMNS.items()}
        self.merchant_active = Growable(np.bool_, array=arrays.get("merchant_active"))  # by merchant id
        self.rules = rules or OpeningRules()
        self._base_n = self.cols["id"].n  # slots 0.._base_n-1 are found through _id_order
        self._id_order = arrays.get("id_order", np.arange(self._base_n))  # base slots in ascending id order
        self._sealed = bool(arrays)  # then stores added go to _extra_slots
        self._extra_slots: dict[int, int] = {}
        self.prior = ranking.PRIOR_MEAN_DEFAULT

    def __len__(self) -> int:
        return self.cols["id"].n

    def col(self, name: str) -> np.ndarray:
        """The whole column, spare capacity included: index it with slots only."""
        return self.cols[name].array

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns of the sealed stores (a snapshot's)."""
        return {**{name: g.values[: self._base_n] for name, g in self.cols.items()},
                "merchant_active": self.merchant_active.values, "id_order": self._id_order}

    def seal(self, order: np.ndarray | None = None) -> None:
        """After the first load (in id order): put the stores in `order` (old slots, new slot by new slot);
        stores added from now on are found by a dict."""
        if order is not None:
            for column in self.cols.values():
                column.array[: column.n] = column.array[order]
        self._base_n = len(self)
        self._id_order = np.argsort(self.col("id")[: self._base_n], kind="stable")
        self._sealed = True

    # --- rows in ---------------------------------------------------------------------------------

    def set_merchants(self, rows) -> None:
        """Record (merchant id, status) pairs: which merchants are active."""
        if not rows:
            return
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if ids.max() >= self.merchant_active.n:
            self.merchant_active.extend(np.zeros(int(ids.max()) + 1 - self.merchant_active.n, dtype=bool))
        self.merchant_active.array[ids] = [r[1] == MerchantStatus.ACTIVE for r in rows]

    def append(self, rows) -> np.ndarray:
        """Add stores from rows of nearby.loader.STORE_COLUMNS; returns their slots."""
        first = len(self)
        values = self._values(rows)
        for name, column in values.items():
            self.cols[name].extend(column)
        slots = np.arange(first, len(self))
        if self._sealed:
            self._extra_slots.update(zip(values["id"].tolist(), slots.tolist()))
        else:
            self._base_n = len(self)
        return slots

    def write(self, rows, slots: np.ndarray) -> None:
        """Overwrite the stores at `slots` with `rows`."""
        for name, column in self._values(rows).items():
            self.cols[name].fit(column)
            self.cols[name].array[slots] = column

    def _values(self, rows) -> dict[str, np.ndarray]:
        columns = list(zip(*rows)) if rows else [()] * 12
        ids, merchant_ids, lat, lng, status, tz, hours, closed, avg, count, popularity, _ = columns
        status = np.array([STATUS_CODE[s] for s in status], dtype=np.int8)
        # A store that is not open for business keeps no hours: its rule is never open.
        keys = [(h, c, z) if s == OPEN else (None, None, z) for h, c, z, s in zip(hours, closed, tz, status.tolist())]
        # Map each distinct value once: a million stores share a few zones and hour patterns.
        rules = {key: self.rules.rule(*key) for key in set(keys)}
        merchant_ids = np.array(merchant_ids, dtype=np.int64)
        return {"id": np.array(ids, dtype=np.int64), "merchant_id": merchant_ids,
                "lat": np.array(lat, dtype=np.float64), "lng": np.array(lng, dtype=np.float64),
                "status": status, "rule": np.array([rules[k] for k in keys], dtype=np.int32),
                "rating_avg": np.array(avg, dtype=np.float64), "rating_count": np.array(count, dtype=np.int64),
                "popularity": np.array(popularity, dtype=np.int64), "listed": self.listable(merchant_ids, status)}

    # --- reading ---------------------------------------------------------------------------------

    def listable(self, merchant_ids: np.ndarray, status: np.ndarray) -> np.ndarray:
        """Listed: the store is not closed and its merchant is active."""
        known = merchant_ids < self.merchant_active.n
        active = np.zeros(len(merchant_ids), dtype=bool)
        active[known] = self.merchant_active.array[merchant_ids[known]]
        return active & (status != CLOSED)

    def relist(self, slots: np.ndarray) -> np.ndarray:
        """Work out `listed` again for these slots (their merchant changed); returns it."""
        listed = self.listable(self.col("merchant_id")[slots], self.col("status")[slots])
        self.col("listed")[slots] = listed
        return listed

    def slots_of(self, ids: np.ndarray) -> np.ndarray:
        """Slot of each store id, -1 where unknown."""
        ids = np.asarray(ids, dtype=np.int64)
        base = self.col("id")[: self._base_n]
        # In the column's own width (an id too wide to be there finds a wrong slot, dropped below).
        pos = np.searchsorted(base, ids.astype(base.dtype, copy=False), sorter=self._id_order)
        inside = pos < len(base)
        slots = np.full(len(ids), -1, dtype=np.int64)
        slots[inside] = self._id_order[pos[inside]]
        found = np.zeros(len(ids), dtype=bool)
        found[inside] = base[slots[inside]] == ids[inside]
        slots[~found] = -1
        for i in np.flatnonzero(~found):
            slots[i] = self._extra_slots.get(int(ids[i]), -1)
        return slots

    def kernel_columns(self, *, with_ids: bool = True) -> tuple[np.ndarray, ...]:
        """The columns a query reads (nearby.kernel), in its order: whole, spare capacity included."""
        c = self.col
        if with_ids:
            return (c("lat"), c("lng"), c("id"), c("status"), c("rule"), c("rating_avg"), c("rating_count"),
                    c("popularity"))
        return c("lat"), c("lng"), c("status"), c("rule"), c("rating_avg"), c("rating_count"), c("popularity")

    def static_points(self, slots: np.ndarray | slice) -> np.ndarray:
        """Rating plus popularity points at the current prior: what a store scores wherever the customer is."""
        rating, popularity = ranking.static_points(self.col("rating_avg")[slots], self.col("rating_count")[slots],
                                                   self.col("popularity")[slots], self.prior)
        return rating + popularity

    def openable(self, slots: np.ndarray | slice) -> np.ndarray:
        return self.col("status")[slots] == OPEN

    def update_prior(self) -> None:
        """The prior mean rating: the mean of the listed stores' ratings, capped (geo.ranking)."""
        n = len(self)
        listed = self.col("listed")[:n]
        self.prior = ranking.prior_mean(self.col("rating_avg")[:n][listed], self.col("rating_count")[:n][listed])
