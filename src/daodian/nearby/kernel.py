"""One nearby query, compiled (numba): from the postings to the best `limit` stores, scored exactly.

A query in Python and numpy paid a few microseconds per array operation, a hundred operations a
query; compiled, the whole search is one call that looks only at what can make the results:

- Rows of grid cells are walked outward from the customer's row, and stop on each side once a row is
  further away (by latitude alone, a true lower bound on the sphere) than any store could be and still
  make the results.
- Each group of postings (nearby.postings) in a row's column ranges has a lower bound of its distance
  (bounding circle); by score, with its best potential, an upper bound of its members' scores.
- Members of a group come best potential first: by score, the first whose bound (the group's distance,
  its potential, the slack for rounding and for the prior's drift) cannot reach the current `limit`-th
  best ends the group; each member's own bound (its offset from the group's centre) skips more.
- What remains is scored exactly, by the same arithmetic, in the same order, as geo.ranking.score and
  geo.distance (the same IEEE operations and libm calls, so the same bits: tests/nearby compares with
  scoring every store), and kept in a bounded list of the best `limit`, ties by distance, then id.

By distance it is the same walk with distance bounds. Changed stores (nearby.delta) are passed in and
scored one by one; posted copies of them are dead and skipped.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from daodian.geo import ranking
from daodian.geo.distance import EARTH_RADIUS_M

W_DISTANCE = ranking.WEIGHTS["distance"]
W_RATING = ranking.WEIGHTS["rating"]
W_POPULARITY = ranking.WEIGHTS["popularity"]
W_OPEN = ranking.WEIGHTS["open_now"]
HALF_M = ranking.DISTANCE_HALF_M
PRIOR_WEIGHT = ranking.PRIOR_WEIGHT
RATING_MIN, RATING_SPAN = ranking.RATING_MIN, ranking.RATING_MAX - ranking.RATING_MIN
POPULARITY_LOG = math.log1p(ranking.POPULARITY_FULL)  # np.log1p(1000) gives the same bits
SCALE = 10.0 ** 6  # geo.ranking's _DIGITS
assert ranking._DIGITS == 6
DEG = math.pi / 180.0  # np.radians multiplies by this
TWO_R = 2.0 * EARTH_RADIUS_M
METRES_PER_DEG = math.pi * EARTH_RADIUS_M / 180.0
HALF_CUBE_DIAGONAL = math.sqrt(3.0) / 2.0
CODE_SHIFT, ROW_SHIFT = 42, 21  # nearby.postings' group key: code << 42 | row << 21 | column
COL_MASK = (1 << ROW_SHIFT) - 1
OPEN_STATUS = 0  # nearby.table's STATUS_CODE of an open store
VALUES = 13  # per hit: raw x4, normalised x4, points x4, score (parts in WEIGHTS' order)


@njit(cache=True, nogil=True)
def _round(x):
    return np.rint(x * SCALE) / SCALE  # ndarray.round(6): multiply, round half to even, divide


@njit(cache=True, nogil=True)
def haversine(lat1, lng1, lat2, lng2):
    """geo.distance's haversine, operation for operation."""
    phi1, phi2 = lat1 * DEG, lat2 * DEG
    d_phi = phi2 - phi1
    d_lmb = (lng2 - lng1) * DEG
    s_phi, s_lmb = math.sin(d_phi / 2.0), math.sin(d_lmb / 2.0)
    h = s_phi * s_phi + (math.cos(phi1) * math.cos(phi2)) * (s_lmb * s_lmb)
    h = min(max(h, 0.0), 1.0)
    return TWO_R * math.atan2(math.sqrt(h), math.sqrt(1.0 - h))


@njit(cache=True, nogil=True)
def score_into(out, k, distance, rating_avg, rating_count, popularity, is_open, prior):
    """geo.ranking.score of one store into out[k]: raw, normalised and points of each part, and the score."""
    n = max(float(rating_count), 0.0)
    bayes = (PRIOR_WEIGHT * prior + n * rating_avg) / (PRIOR_WEIGHT + n)
    visits = max(float(popularity), 0.0)
    opened = 1.0 if is_open else 0.0
    n_d = _round(0.5 ** (distance / HALF_M))
    n_r = _round(min(max((bayes - RATING_MIN) / RATING_SPAN, 0.0), 1.0))
    n_p = _round(min(math.log1p(visits) / POPULARITY_LOG, 1.0))
    p_d, p_r = _round(W_DISTANCE * n_d), _round(W_RATING * n_r)
    p_p, p_o = _round(W_POPULARITY * n_p), _round(W_OPEN * opened)
    out[k, 0], out[k, 1], out[k, 2], out[k, 3] = distance, bayes, visits, opened
    out[k, 4], out[k, 5], out[k, 6], out[k, 7] = n_d, n_r, n_p, opened
    out[k, 8], out[k, 9], out[k, 10], out[k, 11] = p_d, p_r, p_p, p_o
    out[k, 12] = _round(((p_d + p_r) + p_p) + p_o)
    return out[k, 12]


@njit(cache=True, nogil=True)
def _points_bound(distance):
    """Distance points of a store at least `distance` away, before rounding (nearer never gets fewer)."""
    return W_DISTANCE * 0.5 ** (max(distance, 0.0) / HALF_M)


@njit(cache=True, nogil=True)
def _before(by_distance, s1, d1, i1, s2, d2, i2):
    """Whether a result comes before another: by score (higher, then nearer, then lower id) or by distance."""
    if by_distance:
        return d1 < d2 or (d1 == d2 and i1 < i2)
    return s1 > s2 or (s1 == s2 and (d1 < d2 or (d1 == d2 and i1 < i2)))


@njit(cache=True, nogil=True)
def _offer(slot, sid, dist, is_open, t_avg, t_count, t_pop, prior, by_distance,
           k_slot, k_id, k_vals, count, limit, worst):
    """Score a store (known to match) and keep it if it is among the best `limit`; returns (count, worst)."""
    for j in range(count):
        if k_slot[j] == slot:
            return count, worst  # already kept (a store in two categories of a group is posted twice)
    if count < limit:
        at = count
        count += 1
    else:
        at = worst
        w = k_vals[worst]
        if by_distance:
            if not _before(True, 0.0, dist, sid, 0.0, w[0], k_id[worst]):
                return count, worst
        else:
            # The score is needed first: it is worked out into the spare row `limit`.
            score_into(k_vals, limit, dist, t_avg[slot], t_count[slot], t_pop[slot], is_open, prior)
            if not _before(False, k_vals[limit, 12], dist, sid, w[12], w[0], k_id[worst]):
                return count, worst
            for v in range(VALUES):
                k_vals[at, v] = k_vals[limit, v]
            k_slot[at], k_id[at] = slot, sid
            return count, _worst(by_distance, k_vals, k_id, count)
    score_into(k_vals, at, dist, t_avg[slot], t_count[slot], t_pop[slot], is_open, prior)
    k_slot[at], k_id[at] = slot, sid
    return count, _worst(by_distance, k_vals, k_id, count) if count == limit else worst


@njit(cache=True, nogil=True)
def _worst(by_distance, k_vals, k_id, count):
    worst = 0
    for j in range(1, count):
        if _before(by_distance, k_vals[worst, 12], k_vals[worst, 0], k_id[worst], k_vals[j, 12], k_vals[j, 0], k_id[j]):
            worst = j
    return worst


@njit(cache=True, nogil=True)
def _first_at_least(sorted_keys, value):
    """The first position whose key is at least `value` (np.searchsorted, side left)."""
    lo, hi = 0, len(sorted_keys)
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_keys[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _reach_for_points(points):
    """How far a store may be and still earn `points` distance points (geo.ranking.distance_for_points)."""
    if points <= 0.0:
        return np.inf
    return max(-HALF_M * math.log2(points / W_DISTANCE), 0.0) + 1.0


@njit(cache=True, nogil=True)
def search(lat, lng, radius_m, codes, limit, open_only, by_distance, prior, slack, potential_max,
           key, start, center, radius_g, best, p_slot, offset, step_m, static_q, static_step, scale, cell_m,
           t_lat, t_lng, t_id, t_status, t_rule, t_avg, t_count, t_pop, open_bits, dead, extra,
           k_slot, k_id, k_vals):
    """The best `limit` stores (or nearest, `by_distance`) within `radius_m` of (lat, lng), of the category
    codes, into k_slot, k_id (store ids) and k_vals (VALUES per hit), in order; returns how many. `k_vals`
    has limit + 1 rows."""
    count, worst = 0, 0
    phi, lmb = lat * DEG, lng * DEG
    ox, oy, oz = math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi)
    n_dead = len(dead)
    # Changed stores first: scored one by one.
    for i in range(len(extra)):
        slot = extra[i]
        d = haversine(lat, lng, t_lat[slot], t_lng[slot])
        if d > radius_m:
            continue
        is_open = t_status[slot] == OPEN_STATUS and open_bits[t_rule[slot]]
        if open_only and not is_open:
            continue
        count, worst = _offer(slot, t_id[slot], d, is_open, t_avg, t_count, t_pop, prior, by_distance,
                              k_slot, k_id, k_vals, count, limit, worst)
    angle = radius_m / EARTH_RADIUS_M
    reach_deg = math.degrees(angle)
    cos_lat = math.cos(math.radians(lat))
    for c in range(len(codes)):
        code = codes[c]
        cell_deg = (scale[code] if code < len(scale) else 1) * cell_m / METRES_PER_DEG
        rows = math.ceil(180.0 / cell_deg) + 1
        cols = math.ceil(360.0 / cell_deg)
        # nearby.grid.Grid.windows: rows and one or two column ranges, padded by a cell.
        row_lo = max(math.floor((max(lat - reach_deg, -90.0) + 90.0) / cell_deg) - 1, 0)
        row_hi = min(math.floor((min(lat + reach_deg, 90.0) + 90.0) / cell_deg) + 1, rows - 1)
        a1, b1, a2, b2 = 0, cols - 1, 1, 0  # the second range empty unless set
        if not (abs(lat) + reach_deg >= 90.0 or math.sin(angle) >= cos_lat or angle >= math.pi / 2):
            half = math.degrees(math.asin(math.sin(angle) / cos_lat))
            lo = math.floor((lng - half + 180.0) / cell_deg) - 1
            hi = math.floor((lng + half + 180.0) / cell_deg) + 1
            if hi - lo + 1 < cols:
                if lo < 0:
                    a1, b1, a2, b2 = lo + cols, cols - 1, 0, hi
                elif hi >= cols:
                    a1, b1, a2, b2 = lo, cols - 1, 0, hi - cols
                else:
                    a1, b1 = lo, hi
        home = min(max(math.floor((lat + 90.0) / cell_deg), row_lo), row_hi)
        home_col = math.floor((lng + 180.0) / cell_deg) % cols
        up, down = home, home - 1  # the next row each way
        while up <= row_hi or down >= row_lo:
            # How far a store may be and still make the results, as they stand.
            limit_m = radius_m
            if count == limit:
                if by_distance:
                    limit_m = min(limit_m, k_vals[worst, 0])
                else:
                    limit_m = min(limit_m, _reach_for_points(k_vals[worst, 12] - potential_max - slack))
            # The nearer of the two next rows; a row's latitude gap to the customer bounds its distance.
            gap_up = max((up * cell_deg - 90.0) - lat, 0.0) * METRES_PER_DEG - 1.0 if up <= row_hi else np.inf
            top = (down + 1) * cell_deg - 90.0
            gap_down = max(lat - top, 0.0) * METRES_PER_DEG - 1.0 if down >= row_lo else np.inf
            if gap_up <= gap_down:
                row, gap = up, gap_up
                up += 1
            else:
                row, gap = down, gap_down
                down -= 1
            if gap > limit_m:
                break  # this row is the nearer one left: every row left is too far
            base = (code << CODE_SHIFT) | (row << ROW_SHIFT)
            for part in range(2):
                a, b = (a1, b1) if part == 0 else (a2, b2)
                if a > b:
                    continue
                g0 = _first_at_least(key, base | a)
                g1 = _first_at_least(key, (base | b) + 1)
                # Outward from the customer's column, as the rows: near groups first make the bar high early.
                mid = min(max(_first_at_least(key, base | home_col), g0), g1)
                left, right = mid - 1, mid
                for _ in range(g1 - g0):
                    if right < g1 and (left < g0 or (key[right] & COL_MASK) - home_col <= home_col - (key[left] & COL_MASK)):
                        g = right
                        right += 1
                    else:
                        g = left
                        left -= 1
                    dx, dy, dz = ox - center[g, 0], oy - center[g, 1], oz - center[g, 2]
                    nearest = max(EARTH_RADIUS_M * math.sqrt(dx * dx + dy * dy + dz * dz) - radius_g[g], 0.0)
                    if nearest > radius_m:
                        continue
                    full = count == limit
                    if full and nearest > limit_m:  # too far for any store, whatever its potential
                        continue
                    if full:
                        if by_distance:
                            if nearest > k_vals[worst, 0]:
                                continue
                        elif _points_bound(nearest) + best[g] + slack < k_vals[worst, 12]:
                            continue
                    step = step_m[g]
                    err = step * HALF_CUBE_DIAGONAL
                    ex, ey, ez = dx * EARTH_RADIUS_M, dy * EARTH_RADIUS_M, dz * EARTH_RADIUS_M
                    group_points = _points_bound(nearest)
                    for m in range(start[g], start[g + 1]):
                        slot = p_slot[m]
                        if slot < n_dead and dead[slot]:
                            continue
                        full = count == limit
                        static = static_q[m] * static_step
                        openable = t_status[slot] == OPEN_STATUS
                        # By score, members come best potential first: none after this one can do better.
                        if full and not by_distance and (group_points + static + static_step
                                                         + (W_OPEN if openable else 0.0) + slack < k_vals[worst, 12]):
                            break
                        is_open = openable and open_bits[t_rule[slot]]
                        if open_only and not is_open:
                            continue
                        fx = ex - offset[m, 0] * step
                        fy = ey - offset[m, 1] * step
                        fz = ez - offset[m, 2] * step
                        near = math.sqrt(fx * fx + fy * fy + fz * fz) - err  # an arc is no shorter than its chord
                        if near > radius_m:
                            continue
                        if full:
                            if by_distance:
                                if near > k_vals[worst, 0]:
                                    continue
                            elif _points_bound(near) + static + static_step + (W_OPEN if is_open else 0.0) \
                                    + slack < k_vals[worst, 12]:
                                continue
                        d = haversine(lat, lng, t_lat[slot], t_lng[slot])
                        if d > radius_m:
                            continue
                        count, worst = _offer(slot, t_id[slot], d, is_open, t_avg, t_count, t_pop, prior,
                                              by_distance, k_slot, k_id, k_vals, count, limit, worst)
    # In order (insertion sort: at most `limit`).
    for i in range(1, count):
        j = i
        while j > 0 and _before(by_distance, k_vals[j, 12], k_vals[j, 0], k_id[j],
                                k_vals[j - 1, 12], k_vals[j - 1, 0], k_id[j - 1]):
            for v in range(VALUES):
                k_vals[j, v], k_vals[j - 1, v] = k_vals[j - 1, v], k_vals[j, v]
            k_slot[j], k_slot[j - 1] = k_slot[j - 1], k_slot[j]
            k_id[j], k_id[j - 1] = k_id[j - 1], k_id[j]
            j -= 1
    return count


@njit(cache=True, nogil=True)
def score_slots(lat, lng, slots, prior, t_lat, t_lng, t_status, t_rule, t_avg, t_count, t_pop, open_bits, out):
    """Exact values (as `search` gives them) of these stores, wherever they are: promoted ones."""
    for k in range(len(slots)):
        slot = slots[k]
        d = haversine(lat, lng, t_lat[slot], t_lng[slot])
        is_open = t_status[slot] == OPEN_STATUS and open_bits[t_rule[slot]]
        score_into(out, k, d, t_avg[slot], t_count[slot], t_pop[slot], is_open, prior)
