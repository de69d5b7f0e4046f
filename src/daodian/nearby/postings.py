"""Listed stores grouped by (service category, grid cell), so a query can skip what cannot make the results.

A store is posted once under "all" and once under each of its service categories, in the group of the
grid cell it lies in (nearby.grid). A category's cells are larger the rarer it is (a power of two times
CELL_M), so its groups hold about as many stores as a cell of "all". Within a group, members are in
order of their *potential*: the points a store scores wherever the customer stands (rating +
popularity, plus open-now unless it is paused). A store's score is its distance points plus at most its
potential, so a group whose nearest possible point is d metres away holds nobody who could score more
than distance_points(d) + the group's best potential, and within a group only a prefix of members can
reach a floor: the counts of members reaching each of LEVELS are kept, so a prefix is one lookup.

What a query needs of a member is kept in the postings, group by group, so a query reads a few runs of
memory instead of one store table row per candidate: its position as an offset from the group's centre
(int16 steps of the group's resolution: sub-metre), its static points (rating + popularity, in steps of
STATIC_STEP, rounded down) and its opening rule (nearby.opening, which knows paused stores never open).
From these a query bounds each member's score within a few thousandths of a point; only the few that
can make the results are then scored exactly from the store table (nearby.kernel).

Each group keeps a bounding circle (centre, radius) computed from its members, so the nearest possible
point of a group is a true lower bound on the sphere (no trouble at +-180 deg or near the poles). The
arrays never change once built (a snapshot maps them read-only into every process); changed stores are
handled beside them (nearby.delta).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from daodian.geo import ranking
from daodian.geo.distance import EARTH_RADIUS_M, unit_vectors
from daodian.nearby.grid import CELL_M, METRES_PER_DEG, Grid, expand

ALL = 0  # the category code of the "every store" postings
MAX_SCALE = 8  # a rare category's cells are at most this many times larger (so offsets fit in int16)
MAX_CELL_DIAGONAL_M = MAX_SCALE * CELL_M * 1.5  # no group is wider (a cell's diagonal, and some)
POTENTIAL_MAX = sum(ranking.WEIGHTS[k] for k in ("rating", "popularity", "open_now"))
# Potentials a floor can be cut at: where floors fall (a store needs most of its points to beat the
# best few nearby), finely; below, coarsely.
LEVELS = np.r_[0.0, np.linspace(0.2, POTENTIAL_MAX, 15)]
STATIC_STEP = 1e-5  # static points are kept as whole steps, rounded down
_GROUP_MAX = np.iinfo(np.uint16).max  # members per group (counts are uint16); a fuller cell is split
_OFFSET_MAX = 32_000  # of int16
_COL_BITS = _ROW_BITS = 21  # group key: category code << 42 | row << 21 | column
_RADIUS_SLACK_M = 0.01  # bounding radii are rounded up by this, so rounding never makes a bound too tight

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
_EMPTY = np.empty(0, dtype=np.int64)


def _grid_scales(codes: IntArray) -> IntArray:
    """Per category code: how many times CELL_M its cells measure, about sqrt(stores of all / its stores)."""
    counts = np.bincount(codes, minlength=ALL + 1)
    ratio = np.sqrt(max(counts[ALL], 1) / np.maximum(counts, 1))
    scale = np.clip(2 ** np.round(np.log2(ratio)), 1, MAX_SCALE).astype(np.int64)
    scale[ALL] = 1
    return scale


@dataclass(frozen=True)
class Members:
    """Some members of some groups: positions in the postings, and which of the groups each is in."""

    groups: IntArray
    at: IntArray  # positions in the postings
    owner: IntArray  # per position: index into `groups`


@dataclass(frozen=True)
class Postings:
    cell_m: float
    prior: float  # the prior mean rating the potentials were worked out with
    scale: IntArray  # per category code: its grid's cells are scale * cell_m
    key: IntArray  # per group, ascending (a split cell's groups share it)
    start: IntArray  # per group + 1: group g's members are at start[g]:start[g + 1]
    center: FloatArray  # per group, (n, 3) unit vectors
    step_m: FloatArray  # per group: metres per offset step
    radius_m: FloatArray  # per group: no member is further than this from the centre
    best: FloatArray  # per group: the highest potential of a member
    reaching: NDArray[np.uint16]  # (groups, len(LEVELS)): members whose potential reaches each level
    slot: NDArray[np.int32]  # per member: its store's slot; group by group, highest potential first
    offset: NDArray[np.int16]  # per member, (n, 3): (position - centre) * R, in steps of step_m
    static: NDArray[np.uint16]  # per member: rating + popularity points at `prior`, in STATIC_STEPs
    rule: NDArray[np.int32]  # per member: its opening rule

    ARRAYS = ("scale", "key", "start", "center", "step_m", "radius_m", "best", "reaching", "slot", "offset",
              "static", "rule")

    @classmethod
    def build(cls, codes: IntArray, slots: IntArray, lat: FloatArray, lng: FloatArray, static: FloatArray,
              openable: NDArray[np.bool_], rule: NDArray[np.int32], prior: float, cell_m: float = CELL_M) -> Postings:
        """Postings of (category code, slot) pairs; `lat`, `lng`, `static` (rating + popularity points at
        `prior`), `openable` (not paused) and `rule` are indexed by slot."""
        codes, slots = np.asarray(codes, dtype=np.int64), np.asarray(slots, dtype=np.int64)
        scale = _grid_scales(codes)
        lat, lng = lat[slots], lng[slots]
        points = unit_vectors(lat, lng)
        keys = np.zeros(len(slots), dtype=np.int64)
        for s in np.unique(scale[codes]) if len(codes) else ():
            at = scale[codes] == s
            row, col = Grid(s * cell_m / METRES_PER_DEG).cells(lat[at], lng[at])
            keys[at] = (codes[at] << (_ROW_BITS + _COL_BITS)) | (row << _COL_BITS) | col
        pot = static[slots] + ranking.WEIGHTS["open_now"] * openable[slots]
        order = np.lexsort((slots, -pot, keys))
        keys, slots, pot, points = keys[order], slots[order], pot[order], points[order]
        n = len(keys)
        new_cell = np.r_[True, keys[1:] != keys[:-1]] if n else np.zeros(0, bool)
        cell_first = np.flatnonzero(new_cell)
        # A cell with more members than a count can hold becomes several groups, each in potential order.
        rank = np.arange(n) - np.repeat(cell_first, np.diff(np.r_[cell_first, n]))
        first = np.flatnonzero(new_cell | (rank % _GROUP_MAX == 0))
        start = np.r_[first, n].astype(np.int64)
        group = np.repeat(np.arange(len(first)), np.diff(start))
        center, spread, step = np.empty((0, 3)), np.empty(0), np.empty(0)
        offset = np.zeros((n, 3), dtype=np.int16)
        if len(first):
            center = np.add.reduceat(points, first, axis=0)
            center /= np.maximum(np.linalg.norm(center, axis=1), 1e-300)[:, None]
            metres = (points - center[group]) * EARTH_RADIUS_M
            spread = np.maximum.reduceat(np.sqrt(np.einsum("ij,ij->i", metres, metres)), first) / EARTH_RADIUS_M
            step = np.maximum(np.maximum.reduceat(np.abs(metres).max(axis=1), first) / _OFFSET_MAX, 0.01)
            offset = np.rint(metres / step[group][:, None]).astype(np.int16)
        radius = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(spread / 2.0, 0.0, 1.0)) + _RADIUS_SLACK_M
        reaching = np.zeros((len(first), len(LEVELS)), dtype=np.uint16)
        for j, level in enumerate(LEVELS):
            if len(first):
                reaching[:, j] = np.add.reduceat((pot >= level).astype(np.int64), first)
        quantized = np.floor(static[slots] / STATIC_STEP).astype(np.uint16)
        return cls(cell_m, prior, scale, keys[first], start, np.ascontiguousarray(center), step, radius,
                   pot[first] if len(first) else np.empty(0), reaching, slots.astype(np.int32), offset, quantized,
                   rule[slots].astype(np.int32))

    def __len__(self) -> int:
        return len(self.slot)

    @property
    def groups(self) -> int:
        return len(self.key)

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.ARRAYS}

    @classmethod
    def from_arrays(cls, cell_m: float, prior: float, arrays: dict[str, np.ndarray]) -> Postings:
        return cls(cell_m, prior, *(arrays[name] for name in cls.ARRAYS))

    @cached_property
    def kernel_arrays(self) -> tuple:
        """What a query reads (nearby.kernel), in its order."""
        return (self.key, self.start, self.center, self.radius_m, self.best, self.slot, self.offset, self.step_m,
                self.static, STATIC_STEP, self.scale, self.cell_m)

    def pairs(self) -> tuple[IntArray, IntArray]:
        """Every (category code, slot) posted, for a rebuild."""
        codes = (self.key >> (_ROW_BITS + _COL_BITS)).astype(np.int64)
        return np.repeat(codes, np.diff(self.start)), self.slot.astype(np.int64)

    # --- queries ---------------------------------------------------------------------------------

    def ranges(self, lat: float, lng: float, radius_m: float, codes: list[int]) -> tuple[IntArray, IntArray]:
        """[first, last) group ranges covering every cell of these codes that a circle can touch."""
        if not codes or not len(self.key):
            return _EMPTY, _EMPTY
        lo, hi = [], []
        scales = [int(self.scale[c]) if c < len(self.scale) else 1 for c in codes]
        for scale in sorted(set(scales)):
            same = [c for c, s in zip(codes, scales) if s == scale]
            rows, spans = Grid(scale * self.cell_m / METRES_PER_DEG).windows(lat, lng, radius_m)
            base = np.array(same, dtype=np.int64)[:, None] << (_ROW_BITS + _COL_BITS) | (rows[None, :] << _COL_BITS)
            lo += [(base | a).ravel() for a, _ in spans]
            hi += [(base | b).ravel() for _, b in spans]
        lo_keys, hi_keys = (lo[0], hi[0]) if len(lo) == 1 else (np.concatenate(lo), np.concatenate(hi))
        return np.searchsorted(self.key, lo_keys, side="left"), np.searchsorted(self.key, hi_keys, side="right")

    def counts(self, groups: IntArray) -> IntArray:
        return self.start[groups + 1] - self.start[groups]

    def near(self, origin: FloatArray, ranges: tuple[IntArray, IntArray], radius_m: float) -> tuple[IntArray, FloatArray]:
        """Groups of the ranges that may hold a member within `radius_m` of the origin, with a lower bound
        of the distance to any of their members."""
        first, last = ranges
        groups = expand(first, last - first)
        d = self.center[groups] - origin
        # A chord is never longer than its arc, so R * chord - radius never exceeds the true distance.
        nearest = np.maximum(EARTH_RADIUS_M * np.sqrt(np.einsum("ij,ij->i", d, d)) - self.radius_m[groups], 0.0)
        inside = nearest <= radius_m
        return groups[inside], nearest[inside]

    def members(self, groups: IntArray, need: FloatArray | None = None, best: int | None = None) -> Members:
        """The groups' members, or only those whose potential may reach each group's `need` (a few
        more: the prefix is cut at the highest level not above it), or only the `best` of each."""
        if need is None:
            counts = self.start[groups + 1] - self.start[groups]
            if best is not None:
                counts = np.minimum(counts, best)
        else:
            level = np.searchsorted(LEVELS, need, side="right") - 1
            counts = self.reaching[groups, np.maximum(level, 0)].astype(np.int64)
            counts[need > self.best[groups]] = 0
        return Members(groups, expand(self.start[groups], counts), np.repeat(np.arange(len(groups)), counts))
