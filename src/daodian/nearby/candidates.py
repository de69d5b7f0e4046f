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
from daodian.geo.distance import EARTH_RADIUS_M, distances_m_from
from daodian.nearby.delta import Delta
from daodian.nearby.postings import POTENTIAL_MAX, STATIC_STEP, Members, Postings
from daodian.nearby.table import StoreTable

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
_EMPTY = np.empty(0, dtype=np.int64)
_SCORE_SLACK = 1e-5  # each part and the total are rounded to 6 digits (geo.ranking)
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
    _ranges: dict = field(default_factory=dict, compare=False, repr=False)  # reach -> group ranges

    @property
    def changed(self) -> IntArray:
        """The delta's stores of the query's categories, wherever they are."""
        return self.delta.slots_for(self.codes)

    def _cells(self, reach: float) -> tuple[IntArray, IntArray]:
        found = self._ranges.get(reach)
        if found is None:
            found = self._ranges[reach] = self.postings.ranges(self.lat, self.lng, reach, self.codes)
        return found

    def total(self) -> int:
        """At least as many stores as the radius holds (whole cells count, and dead postings)."""
        return self.postings.count_in(self._cells(self.radius_m)) + len(self.changed)

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


def _posted(query: Query, members: Members, reach: float) -> Bounded:
    """Bounds for live posted members within `reach`, from what the postings keep."""
    p, g = query.postings, members.groups
    at, owner = members.at, members.owner
    slots = p.slot[at].astype(np.int64)
    origin_m = (query.origin - p.center[g]) * EARTH_RADIUS_M
    step = p.step_m[g][owner]
    diff = origin_m[owner] - p.offset[at] * step[:, None]
    chord_m = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    err = step * _HALF_CUBE_DIAGONAL
    near = chord_m - err  # an arc is never shorter than its chord
    far = chord_m + err
    far += far ** 3 / (20.0 * EARTH_RADIUS_M ** 2)  # nor longer by more than chord^3 / 24R^2
    open_now = query.table.rules.open_at(p.rule[at], query.now)
    keep = near <= reach
    if query.open_only:
        keep &= open_now
    dead = query.delta.dead
    if len(dead):
        keep &= ~dead[slots]
    slots, near, far, open_now, static = slots[keep], near[keep], far[keep], open_now[keep], p.static[at][keep]
    points = static * STATIC_STEP + np.where(open_now, ranking.WEIGHTS["open_now"], 0.0)
    slack = query.static_slack + _SCORE_SLACK
    high = ranking.distance_points_bound(np.maximum(near, 0.0)) + points + (STATIC_STEP + slack)
    low = ranking.distance_points_bound(far) + points - slack
    return Bounded(slots, near, far, open_now, low, high)


def _exactly(query: Query, slots: IntArray, reach: float) -> Bounded:
    """Changed and promoted stores, from the store table: their bounds are their distance and score."""
    table = query.table
    distance = distances_m_from(query.origin, table.col("xyz")[slots])
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


def bounded(query: Query, reach: float, promoted: IntArray, floor: float) -> Bounded:
    """Candidates within `reach` whose score may reach `floor` (all of them when the floor is -inf), plus
    the changed ones and the promoted ones of the whole radius."""
    postings = query.postings
    if floor == -math.inf:
        ranges = query._cells(min(reach, query.radius_m))
        groups, nearest = postings.near(query.origin, ranges, min(reach, query.radius_m))
        members = postings.members(groups)
    else:
        slack = query.static_slack + _SCORE_SLACK
        # Past this distance even the best possible potential cannot make up for it.
        far_enough = min(reach, query.radius_m, ranking.distance_for_points(floor - POTENTIAL_MAX - slack))
        groups, nearest = postings.near(query.origin, query._cells(far_enough), far_enough)
        members = postings.members(groups, floor - ranking.distance_points_bound(nearest) - slack)
    found = _posted(query, members, reach)
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
    distance = distances_m_from(query.origin, table.col("xyz")[candidates.slots])
    inside = distance <= query.radius_m
    slots, distance, open_now = candidates.slots[inside], distance[inside], candidates.open_now[inside]
    return Scored(slots, distance, open_now,
                  ranking.score(distance, table.col("rating_avg")[slots], table.col("rating_count")[slots],
                                table.col("popularity")[slots], open_now, table.prior))


def nearest(query: Query, limit: int, reach: float) -> Scored:
    """The `limit` nearest candidates within the radius, nearest first (ties by id), scored: a circle
    from `reach`, doubled until it surely holds `limit` of them (then no nearer one is outside it)."""
    while True:
        found = bounded(query, reach, _EMPTY, -math.inf)
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
