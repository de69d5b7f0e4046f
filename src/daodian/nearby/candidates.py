"""The stores a nearby query looks at, and how they score (docs/ranking.md, geo.ranking).

A query reads the groups of postings (nearby.postings) of its categories that reach into a circle,
each with a lower bound of its distance, plus the changed stores of the delta (nearby.delta) and the
promoted ones. From what the postings keep, every member gets a lower and an upper bound of its score,
a few thousandths of a point apart (`Bounded`); changed and promoted stores are scored exactly.

Ranking by score: a floor is the `limit`-th best lower bound among stores surely in the radius. Only
members that could still reach it are read (no group further than where even the best potential could
make up for the distance; within a group, only the prefix whose potential can), and only those whose
upper bound reaches it are scored exactly, from the store table (`exact`). Ranking by distance works
the same way with distance bounds (`nearest`). Nothing that could make the results is ever skipped:
tests/nearby compares the answers with scoring every store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from daodian.geo import ranking
from daodian.geo.distance import EARTH_RADIUS_M, haversine_m_arrays
from daodian.nearby.delta import Delta
from daodian.nearby.postings import MAX_CELL_DIAGONAL_M, POTENTIAL_MAX, STATIC_STEP, Members, Postings
from daodian.nearby.table import StoreTable

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
_EMPTY = np.empty(0, dtype=np.int64)
_HALF_CUBE_DIAGONAL = math.sqrt(3) / 2  # most an offset rounded to whole steps is off, in steps


@dataclass(frozen=True)
class Query:
    """Where and how far one search looks, in which categories, and the postings and delta it reads."""

    table: StoreTable
    origin: FloatArray  # unit vector
    lat: float
    lng: float
    radius_m: float
    codes: list[int]
    postings: Postings
    delta: Delta
    open_only: bool
    now: datetime
    _area: list = field(default_factory=list, compare=False, repr=False)  # (groups, nearest), once worked out

    @property
    def changed(self) -> IntArray:
        """The delta's stores of the query's categories, wherever they are."""
        return self.delta.slots_for(self.codes)

    def _groups(self) -> tuple[IntArray, FloatArray]:
        """Every group that may hold a member within the radius, with a lower bound of its distance:
        worked out once; a smaller circle takes those near enough."""
        if not self._area:
            ranges = self.postings.ranges(self.lat, self.lng, self.radius_m, self.codes)
            self._area.append(self.postings.near(self.origin, ranges, self.radius_m))
        return self._area[0]

    def within(self, reach: float) -> tuple[IntArray, FloatArray]:
        groups, nearest = self._groups()
        if reach >= self.radius_m:
            return groups, nearest
        near = nearest <= reach
        return groups[near], nearest[near]

    def total(self) -> int:
        """At least as many stores as the radius holds (whole groups count, and dead postings)."""
        return int(self.postings.counts(self._groups()[0]).sum()) + len(self.changed)

    def distances_m(self, slots: IntArray) -> FloatArray:
        """Great-circle metres to these stores, exactly (tests/nearby's reference works them out alike)."""
        return haversine_m_arrays(self.lat, self.lng, self.table.col("lat")[slots], self.table.col("lng")[slots])

    @property
    def arc_slack_m(self) -> float:
        """How much longer than its chord an arc within the radius may be (chord^3 / 24R^2, and some)."""
        longest = self.radius_m + 2 * MAX_CELL_DIAGONAL_M
        return longest ** 3 / (20.0 * EARTH_RADIUS_M ** 2)

    @property
    def static_slack(self) -> float:
        """How far a member's static points may be from its kept steps: a step, plus how far the prior
        moved since the postings were built (it moves every store's rating points a little)."""
        drift = ranking.RATING_POINTS_PER_PRIOR * abs(self.table.prior - self.postings.prior)
        return STATIC_STEP + drift + 2e-6


@dataclass(frozen=True)
class Bounded:
    """Candidates with bounds on their distance and score, and whether they are open now."""

    slots: IntArray
    near_m: FloatArray
    far_m: FloatArray
    open_now: BoolArray
    low: FloatArray
    high: FloatArray

    def __len__(self) -> int:
        return len(self.slots)

    def kth_low(self, k: int, within_m: float) -> float | None:
        """The k-th best lower bound among candidates surely within `within_m`: a floor for the k-th score."""
        lows = self.low[self.far_m <= within_m]
        return float(-np.partition(-lows, k - 1)[k - 1]) if len(lows) >= k else None

    def kth_far(self, k: int) -> float | None:
        return float(np.partition(self.far_m, k - 1)[k - 1]) if len(self) >= k else None

    def where(self, keep: BoolArray) -> Bounded:
        return Bounded(self.slots[keep], self.near_m[keep], self.far_m[keep], self.open_now[keep], self.low[keep],
                       self.high[keep])


def _posted(query: Query, members: Members, reach: float, scores: bool = True) -> Bounded:
    """Bounds for live posted members within `reach`, from what the postings keep (without `scores`,
    of their distance only: their score bounds are left at nought)."""
    p, g = query.postings, members.groups
    at, owner = members.at, members.owner
    step = p.step_m[g][owner]
    diff = ((query.origin - p.center[g]) * EARTH_RADIUS_M)[owner] - p.offset[at] * step[:, None]
    chord_m = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    err = step * _HALF_CUBE_DIAGONAL  # rounding the offset to whole steps
    near = chord_m - err  # an arc is never shorter than its chord
    keep = near <= reach
    if query.open_only or query.delta.dead_count:
        open_now = query.table.rules.open_at(p.rule[at], query.now)
        if query.open_only:
            keep &= open_now
        if query.delta.dead_count:
            keep &= ~query.delta.dead[p.slot[at]]
    if not keep.all():
        at, near, chord_m, err = at[keep], near[keep], chord_m[keep], err[keep]
    open_now = query.table.rules.open_at(p.rule[at], query.now)
    # Nor is an arc longer than its chord by more than chord^3 / 24R^2 (bounded here for the longest).
    far = chord_m + err + query.arc_slack_m
    if not scores:
        return Bounded(p.slot[at], near, far, open_now, np.zeros(len(at)), np.zeros(len(at)))
    points = p.static[at] * STATIC_STEP + np.where(open_now, ranking.WEIGHTS["open_now"], 0.0)
    slack = query.static_slack + ranking.ROUNDING_SLACK
    high = ranking.distance_points_bound(np.maximum(near, 0.0)) + points + (STATIC_STEP + slack)
    low = ranking.distance_points_bound(far) + (points - slack)
    return Bounded(p.slot[at], near, far, open_now, low, high)


def _exactly(query: Query, slots: IntArray, reach: float) -> Bounded:
    """Changed and promoted stores, from the store table: their bounds are their distance and score."""
    table = query.table
    distance = query.distances_m(slots)
    open_now = table.rules.open_at(table.col("rule")[slots], query.now)
    keep = distance <= reach
    if query.open_only:
        keep &= open_now
    slots, distance, open_now = slots[keep], distance[keep], open_now[keep]
    score = ranking.score(distance, table.col("rating_avg")[slots], table.col("rating_count")[slots],
                          table.col("popularity")[slots], open_now, table.prior).score
    return Bounded(slots, distance, distance, open_now, score, score)


def _join(parts: list[Bounded], unique: bool) -> Bounded:
    parts = [b for b in parts if len(b)] or parts[:1]
    if len(parts) == 1 and (unique or len(parts[0]) < 2):
        return parts[0]
    joined = parts[0] if len(parts) == 1 else Bounded(
        *(np.concatenate([getattr(b, f) for b in parts]) for f in Bounded.__dataclass_fields__))
    if unique:
        return joined
    # A store in two categories of a group is posted twice, and a promoted store may be posted too: keep
    # one entry each, the exact one when there is one (it comes later, and its bounds are tightest).
    _, last = np.unique(joined.slots[::-1], return_index=True)
    return joined.where(np.sort(len(joined) - 1 - last))


def bounded(query: Query, reach: float, promoted: IntArray, floor: float, best: int | None = None,
            scores: bool = True) -> Bounded:
    """Candidates within `reach` whose score may reach `floor` (all of them when the floor is -inf, or
    with `best`, only the best of each group: a few good ones, for a floor), plus the changed ones and
    the promoted ones of the whole radius."""
    postings = query.postings
    if floor == -math.inf:
        groups, _ = query.within(reach)
        members = postings.members(groups, best=best)
    else:
        slack = query.static_slack + ranking.ROUNDING_SLACK
        # Past this distance even the best possible potential cannot make up for it.
        groups, nearest = query.within(min(reach, ranking.distance_for_points(floor - POTENTIAL_MAX - slack)))
        members = postings.members(groups, floor - ranking.distance_points_bound(nearest) - slack)
    found = _posted(query, members, reach, scores)
    if floor != -math.inf:
        found = found.where(found.high >= floor)
    extra = np.union1d(query.changed, promoted) if len(promoted) else query.changed
    if not len(extra):
        return found if len(query.codes) <= 1 else _join([found], unique=False)
    exact = _exactly(query, extra, max(reach, query.radius_m) if len(promoted) else reach)
    if len(promoted) and len(exact):  # promoted stores count wherever they are in the radius; others within reach
        exact = exact.where(np.isin(exact.slots, promoted) | (exact.near_m <= reach))
    return _join([found, exact], unique=len(query.codes) <= 1 and not len(promoted))


@dataclass(frozen=True)
class Scored:
    """Candidates scored exactly (geo.ranking.score), with their distance and opening."""

    slots: IntArray
    distance_m: FloatArray
    open_now: BoolArray
    scores: ranking.Scores

    def __len__(self) -> int:
        return len(self.slots)


def exact(query: Query, candidates: Bounded) -> Scored:
    """The candidates scored from the store table, those past the radius left out."""
    table = query.table
    distance = query.distances_m(candidates.slots)
    inside = distance <= query.radius_m
    slots, distance, open_now = candidates.slots[inside], distance[inside], candidates.open_now[inside]
    return Scored(slots, distance, open_now,
                  ranking.score(distance, table.col("rating_avg")[slots], table.col("rating_count")[slots],
                                table.col("popularity")[slots], open_now, table.prior))


def nearest(query: Query, limit: int, reach: float) -> Scored:
    """The `limit` nearest candidates within the radius, nearest first (ties by id), scored: a circle
    from `reach`, doubled until it surely holds `limit` of them (then no nearer one is outside it)."""
    while True:
        found = bounded(query, reach, _EMPTY, -math.inf, scores=False)
        kth = found.kth_far(limit)
        if (kth is not None and kth <= reach) or reach >= query.radius_m:
            break
        reach = min(query.radius_m, reach * 2)
    if kth is not None:
        found = found.where(found.near_m <= kth)
    scored = exact(query, found)
    first = np.lexsort((query.table.col("id")[scored.slots], scored.distance_m))[:limit]
    return Scored(scored.slots[first], scored.distance_m[first], scored.open_now[first],
                  _take(scored.scores, first))


def _take(scores: ranking.Scores, at: np.ndarray) -> ranking.Scores:
    return ranking.Scores(scores.score[at], {k: v[at] for k, v in scores.raw.items()},
                          {k: v[at] for k, v in scores.normalized.items()}, {k: v[at] for k, v in scores.points.items()})
