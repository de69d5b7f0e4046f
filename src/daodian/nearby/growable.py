"""A numpy array with spare capacity, for per-store columns that grow as stores are added."""

from __future__ import annotations

import numpy as np


class Growable:
    """Appends are amortised O(1) and writes happen in place. The first array may be a read-only or
    copy-on-write memory map (a snapshot's): it is only replaced, by a private copy, when it must grow."""

    def __init__(self, dtype, capacity: int = 1024, *, width: int | None = None, array: np.ndarray | None = None):
        shape = (max(capacity, 16),) if width is None else (max(capacity, 16), width)
        self.array = np.zeros(shape, dtype=dtype) if array is None else array
        self.n = 0 if array is None else len(array)

    def fit(self, values) -> None:
        """Widen an integer column that would not hold these values (columns are kept narrow while their
        values fit: a million ids in int32 take half the memory)."""
        values = np.asarray(values)
        if self.array.dtype.kind == "i" and values.dtype.kind in "iu" and values.size:
            info = np.iinfo(self.array.dtype)
            if values.max() > info.max or values.min() < info.min:
                self.array = self.array.astype(np.int64)

    def extend(self, values) -> int:
        """Append values; returns the position of the first."""
        self.fit(values)
        values = np.asarray(values, dtype=self.array.dtype)
        start, end = self.n, self.n + len(values)
        if end > len(self.array):
            grown = np.zeros((max(end, 2 * len(self.array)), *self.array.shape[1:]), dtype=self.array.dtype)
            grown[:start] = self.array[:start]
            self.array = grown  # readers holding the old array still see valid (older) values
        self.array[start:end] = values
        self.n = end
        return start

    @property
    def values(self) -> np.ndarray:
        return self.array[: self.n]
