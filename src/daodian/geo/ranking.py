"""Nearby ranking: an explainable score per store, and a capped, labelled place for promotions.

score = sum over parts of weight * normalised value, every normalised value in [0, 1]:

- distance:   0.5 ** (distance / DISTANCE_HALF_M): every 1 km further halves the distance points.
- rating:     Bayesian average (C * m + n * avg) / (C + n), mapped from 1..5 to 0..1. m is the
              mean rating of all rated stores, capped at PRIOR_MEAN_CAP, and C = PRIOR_WEIGHT, so a
              store's own reviews only outweigh the prior once there are many of them; a single 5.0
              review cannot beat hundreds at 4.8.
- popularity: log(1 + visits) / log(1 + POPULARITY_FULL), capped at 1 (verified visits/orders in
              the last 90 days): the 10th visit counts for more than the 1000th.
- open_now:   1 if the store is open at the time of the query, else 0.

Promotion never changes a score. A promoted store may be lifted into a promotion slot (the 3rd,
8th, 13th ... result), labelled as promoted; slots are five apart, so at most one result in any five
consecutive results is there because of a payment. docs/ranking.md explains this to merchants.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

WEIGHTS: dict[str, float] = {"distance": 0.45, "rating": 0.30, "popularity": 0.15, "open_now": 0.10}
DISTANCE_HALF_M = 1000.0
PRIOR_WEIGHT = 20.0  # C: the prior counts as this many reviews
PRIOR_MEAN_CAP = 4.0  # above ~4.79 a single 5.0 review would beat 300 at 4.8; keep well below
PRIOR_MEAN_DEFAULT = 3.5  # while no store has a rating yet
RATING_MIN, RATING_MAX = 1.0, 5.0
POPULARITY_FULL = 1000

PROMOTION_FIRST_SLOT = 2  # 0-based: the third result; the first two are always organic
PROMOTION_EVERY = 5

_DIGITS = 6  # parts and score are rounded alike, so the score is exactly the sum of the parts


def prior_mean(rating_avg: ArrayLike, rating_count: ArrayLike) -> float:
    """m: the mean rating of all rated stores, capped (see PRIOR_MEAN_CAP)."""
    avg, count = np.asarray(rating_avg, dtype=np.float64), np.asarray(rating_count)
    rated = avg[count > 0]
    if not len(rated):
        return PRIOR_MEAN_DEFAULT
    # Summed in sorted order: the same stores give the same prior to the last bit, whatever order
    # they are held in (an index keeps them in its own).
    return float(min(np.sort(rated).mean(), PRIOR_MEAN_CAP))


def bayesian_rating(rating_avg: ArrayLike, rating_count: ArrayLike, prior: float) -> FloatArray:
    avg = np.asarray(rating_avg, dtype=np.float64)
    n = np.maximum(np.asarray(rating_count, dtype=np.float64), 0.0)
    return (PRIOR_WEIGHT * prior + n * avg) / (PRIOR_WEIGHT + n)


@dataclass(frozen=True)
class Scores:
    """Scores of n candidates with each part's raw value, normalised value and points."""

    score: FloatArray
    raw: dict[str, FloatArray]
    normalized: dict[str, FloatArray]
    points: dict[str, FloatArray]

    def parts(self, i: int) -> dict[str, dict[str, float]]:
        """`score_parts` of candidate i: raw value, normalised value, weight and points per part."""
        return {name: {"value": round(float(self.raw[name][i]), 3), "normalized": float(self.normalized[name][i]),
                       "weight": weight, "points": float(self.points[name][i])}
                for name, weight in WEIGHTS.items()}

    def parts_of(self, positions: Sequence[int] | None) -> list[dict[str, dict[str, float]]]:
        """`parts(i)` for each position (None: every candidate), converted in bulk (a page of results)."""
        at = slice(None) if positions is None else np.asarray(positions, dtype=np.intp)
        # Visits and open-now are whole numbers: rounding them to 3 places would change nothing.
        columns = [(name, weight, [round(v, 3) for v in self.raw[name][at].tolist()] if name in _FRACTIONAL
                    else self.raw[name][at].tolist(), self.normalized[name][at].tolist(),
                    self.points[name][at].tolist())
                   for name, weight in WEIGHTS.items()]
        return [{name: {"value": raw[k], "normalized": normalized[k], "weight": weight, "points": points[k]}
                 for name, weight, raw, normalized, points in columns} for k in range(len(self.score[at]))]


_FRACTIONAL = {"distance", "rating"}  # raw values that are not whole numbers


def _normalized_rating(bayes: FloatArray) -> FloatArray:
    # np.minimum/np.maximum rather than np.clip: the same numbers, at a fraction of the call's cost.
    return np.minimum(np.maximum((bayes - RATING_MIN) / (RATING_MAX - RATING_MIN), 0.0), 1.0)


def _normalized_popularity(visits: FloatArray) -> FloatArray:
    return np.minimum(np.log1p(visits) / np.log1p(POPULARITY_FULL), 1.0)


def score(distance_m: ArrayLike, rating_avg: ArrayLike, rating_count: ArrayLike, popularity: ArrayLike,
          open_now: ArrayLike, prior: float) -> Scores:
    distance = np.asarray(distance_m, dtype=np.float64)
    bayes = bayesian_rating(rating_avg, rating_count, prior)
    visits = np.maximum(np.asarray(popularity, dtype=np.float64), 0.0)
    is_open = np.asarray(open_now, dtype=np.float64)
    raw = {"distance": distance, "rating": bayes, "popularity": visits, "open_now": is_open}
    normalized = {
        "distance": 0.5 ** (distance / DISTANCE_HALF_M),
        "rating": _normalized_rating(bayes),
        "popularity": _normalized_popularity(visits),
        "open_now": is_open,
    }
    # Rounded once, here, so that the score is exactly the sum of the points a client sees.
    normalized = {k: v.round(_DIGITS) for k, v in normalized.items()}
    points = {k: (w * normalized[k]).round(_DIGITS) for k, w in WEIGHTS.items()}
    total = sum(points.values()).round(_DIGITS) if points else np.zeros(len(distance))
    return Scores(np.asarray(total, dtype=np.float64), raw, normalized, points)


# --- bounds, for searches that skip stores which cannot make the results ----------------------------


# Every part and the total are rounded to _DIGITS: a bound compared with real scores allows for that.
ROUNDING_SLACK = 1e-5
# Rating points move by at most this much per unit the prior moves: the prior's share of the Bayesian
# average, C / (C + n), is at most 1, and the 1..5 scale maps onto 0..1.
RATING_POINTS_PER_PRIOR = WEIGHTS["rating"] / (RATING_MAX - RATING_MIN)


def static_points(rating_avg: ArrayLike, rating_count: ArrayLike, popularity: ArrayLike,
                  prior: float) -> tuple[FloatArray, FloatArray]:
    """Rating points and popularity points, as `score` gives them: what a store scores wherever the
    customer is."""
    bayes = bayesian_rating(rating_avg, rating_count, prior)
    visits = np.maximum(np.asarray(popularity, dtype=np.float64), 0.0)
    rating = (WEIGHTS["rating"] * _normalized_rating(bayes).round(_DIGITS)).round(_DIGITS)
    return rating, (WEIGHTS["popularity"] * _normalized_popularity(visits).round(_DIGITS)).round(_DIGITS)


def distance_points_bound(distance_m: ArrayLike) -> FloatArray:
    """The distance points of a store `distance_m` away, before rounding: nearer stores never get fewer."""
    return WEIGHTS["distance"] * np.exp2(-np.asarray(distance_m, dtype=np.float64) / DISTANCE_HALF_M)


def distance_for_points(points: float) -> float:
    """How far a store may be and still get `points` distance points (`distance_points_bound`); a metre
    further, for rounding. Infinite when any distance will do."""
    if points <= 0.0:
        return math.inf
    return max(-DISTANCE_HALF_M * math.log2(points / WEIGHTS["distance"]), 0.0) + 1.0


def best_possible(distance_m: float) -> float:
    """The highest score any store at `distance_m` or further could have (all other parts at 1).

    Once the `limit`-th best score found within some distance beats this, no store further away can
    enter the results, so a search in a dense district need not score every store in the radius.
    """
    return WEIGHTS["distance"] * 0.5 ** (distance_m / DISTANCE_HALF_M) + sum(
        w for k, w in WEIGHTS.items() if k != "distance")


def organic_order(scores: ArrayLike, distance_m: ArrayLike, ids: ArrayLike, limit: int | None = None) -> NDArray[np.intp]:
    """Candidate positions, best first: higher score, then nearer, then lower id (deterministic).

    With `limit`, only the best `limit` are ordered (a partial sort over large candidate sets).
    """
    s, d, k = np.asarray(scores), np.asarray(distance_m), np.asarray(ids)
    pool = np.arange(len(s))
    if limit is not None and limit < len(s):
        cut = np.partition(-s, limit - 1)[limit - 1]  # the limit-th best score, negated
        pool = np.flatnonzero(-s <= cut)  # ties at the cut stay in, so the order stays deterministic
    return pool[np.lexsort((k[pool], d[pool], -s[pool]))][:limit]


def is_promotion_slot(position: int) -> bool:
    return position >= PROMOTION_FIRST_SLOT and (position - PROMOTION_FIRST_SLOT) % PROMOTION_EVERY == 0


def place_promotions(organic: Sequence[int], promoted: Sequence[int], limit: int) -> list[tuple[int, bool]]:
    """Merge the organic order with promoted candidates into at most `limit` (candidate, promoted) pairs.

    `organic` is the organic order (at least the best `limit`), `promoted` the promoted candidates in
    organic order; both hold only candidates matching the query. In a promotion slot, the best
    promoted candidate not yet shown is lifted there and labelled, unless it is next in organic order
    anyway (then it is shown unlabelled: it earned the place). Elsewhere the organic order rules.
    """
    if not promoted:  # then the organic order, as the loop below would give it
        return [(c, False) for c in list(dict.fromkeys(organic))[:limit]]
    placed: set[int] = set()
    out: list[tuple[int, bool]] = []
    organic_iter, promo_iter = iter(organic), iter(promoted)
    next_organic = next_promo = None

    def advance(it, current):
        while current is None or current in placed:
            current = next(it, None)
            if current is None:
                return None
        return current

    while len(out) < limit:
        next_organic = advance(organic_iter, next_organic)
        if next_organic is None:
            break
        next_promo = advance(promo_iter, next_promo)
        lift = is_promotion_slot(len(out)) and next_promo is not None and next_promo != next_organic
        chosen = next_promo if lift else next_organic
        placed.add(chosen)
        out.append((chosen, lift))
    return out
