"""A latitude/longitude grid for grouping stores by where they are, and an order that keeps neighbours near.

Cells are square in degrees (so narrower in metres towards the poles) and never straddle +-180 deg. A
circle's cells are found as whole rows with one or two column ranges (`Grid.windows`), padded by a cell,
so that no cell a circle touches is missed whatever rounding does. Along a Z curve (bits of row and
column interleaved), cells close on the ground stay close in the order, which is the order a store
table is kept in (`spatial_order`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from daodian.geo.distance import EARTH_RADIUS_M

METRES_PER_DEG = math.pi * EARTH_RADIUS_M / 180.0
CELL_M = 150.0  # about 50-300 stores per cell of a busy district, a handful elsewhere

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def expand(starts: IntArray, counts: IntArray) -> IntArray:
    """The positions start..start+count-1 of every (start, count) range, concatenated."""
    total = int(counts.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return np.arange(total, dtype=np.int64) + shift


@dataclass(frozen=True, slots=True)
class Grid:
    cell_deg: float

    @property
    def rows(self) -> int:
        return math.ceil(180.0 / self.cell_deg) + 1

    @property
    def cols(self) -> int:
        return math.ceil(360.0 / self.cell_deg)

    def cells(self, lat: FloatArray, lng: FloatArray) -> tuple[IntArray, IntArray]:
        row = np.clip(np.floor((lat + 90.0) / self.cell_deg), 0, self.rows - 1).astype(np.int64)
        col = np.floor((lng + 180.0) / self.cell_deg).astype(np.int64) % self.cols
        return row, col

    def windows(self, lat: float, lng: float, radius_m: float) -> tuple[IntArray, list[tuple[int, int]]]:
        """Rows and column ranges of every cell a circle can touch (padded by a cell on each side)."""
        angle = radius_m / EARTH_RADIUS_M
        reach_deg = math.degrees(angle)
        row_lo = math.floor((max(lat - reach_deg, -90.0) + 90.0) / self.cell_deg) - 1
        row_hi = math.floor((min(lat + reach_deg, 90.0) + 90.0) / self.cell_deg) + 1
        rows = np.arange(max(row_lo, 0), min(row_hi, self.rows - 1) + 1, dtype=np.int64)
        cos_lat = math.cos(math.radians(lat))
        if abs(lat) + reach_deg >= 90.0 or math.sin(angle) >= cos_lat or angle >= math.pi / 2:
            return rows, [(0, self.cols - 1)]  # the circle holds a pole, or is too big to bother: every column
        # The widest a spherical cap of angular radius a around latitude phi gets in longitude.
        half = math.degrees(math.asin(math.sin(angle) / cos_lat))
        lo = math.floor((lng - half + 180.0) / self.cell_deg) - 1
        hi = math.floor((lng + half + 180.0) / self.cell_deg) + 1
        if hi - lo + 1 >= self.cols:
            return rows, [(0, self.cols - 1)]
        if lo < 0:
            return rows, [(lo + self.cols, self.cols - 1), (0, hi)]
        if hi >= self.cols:
            return rows, [(lo, self.cols - 1), (0, hi - self.cols)]
        return rows, [(lo, hi)]


def _spread_bits(v: IntArray) -> np.ndarray:
    """The bits of each value, one zero between every two (for interleaving two of them)."""
    v = v.astype(np.uint64)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
                        (2, 0x3333333333333333), (1, 0x5555555555555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def spatial_order(lat: FloatArray, lng: FloatArray, potential: FloatArray, cell_m: float = CELL_M) -> IntArray:
    """Positions in the order of their "all" grid cell along a Z curve (neighbouring cells stay near each
    other), best potential first within a cell: the order a table is kept in, so that the members of a
    group, and the groups near a customer, are near each other in memory."""
    row, col = Grid(cell_m / METRES_PER_DEG).cells(lat, lng)
    return np.lexsort((np.arange(len(lat)), -potential, (_spread_bits(row) << np.uint64(1)) | _spread_bits(col)))

