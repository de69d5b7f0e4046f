"""Association rules "bought X, then consumed Y within the window", counted over people, in numpy.

A transaction is one person (a consumer; for plain baskets, one basket). For an antecedent X (a
product category) and a consequent Y (a service category):

    pair_count       people with a purchase of X followed by a consumption of Y within `window` seconds
                     (0 <= t_consumption - t_purchase <= window)
    antecedent_count people who bought X          consequent_count  people who consumed Y
    support = pair_count / N    confidence = pair_count / antecedent_count
    lift = confidence / (consequent_count / N)     N = people with any purchase or consumption

Plain baskets are the special case where every item of a basket is both bought and consumed at the same
instant, with a window of 0 and X != Y: the figures are then exactly the textbook one-to-one rules
{X} => {Y} (support, confidence and lift as R's arules computes them).

The windowed join never materialises a cross product: consumptions sorted by (person, time) give, for
each purchase, the contiguous range of that person's consumptions inside its window (two searchsorted
calls); the ranges are expanded in chunks that end on a person boundary, so the distinct (person, X, Y)
triples of one chunk are distinct overall and the counts of the chunks simply add up. Memory stays
bounded by the chunk size, whatever the number of pairs.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

CHUNK_PAIRS = 4_000_000  # candidate pairs expanded at once: ~200 MB of temporary arrays
_TIME_BITS = 32  # time offsets (seconds from the earliest event) packed below the person id


@dataclass(frozen=True)
class Events:
    """One row per event: who (person), what (category index 0..n-1) and when (seconds)."""

    who: np.ndarray
    what: np.ndarray
    when: np.ndarray

    @classmethod
    def of(cls, who, what, when=None) -> "Events":
        who = np.asarray(who, dtype=np.int64)
        when = np.zeros(who.size, dtype=np.int64) if when is None else np.asarray(when, dtype=np.int64)
        return cls(who, np.asarray(what, dtype=np.int64), when)

    def __len__(self) -> int:
        return int(self.who.size)


@dataclass(frozen=True)
class Thresholds:
    min_support: float = 0.0
    min_confidence: float = 0.0
    min_lift: float = 0.0
    min_pairs: int = 1


@dataclass(frozen=True)
class Counts:
    pairs: np.ndarray  # (n_antecedents, n_consequents) people with X then Y
    antecedents: np.ndarray  # (n_antecedents,) people who bought X
    consequents: np.ndarray  # (n_consequents,) people who consumed Y
    people: int  # N
    candidate_pairs: int  # purchase -> consumption event pairs inside the window, before de-duplication


def count(purchases: Events, consumptions: Events, *, window: int, n_antecedents: int, n_consequents: int,
          exclude_same: bool = False, people: int | None = None) -> Counts:
    """All the counts the figures need. `exclude_same` drops X == Y (plain baskets share one item space);
    `people` overrides N (e.g. baskets that hold nothing either side still count)."""
    if window < 0:
        raise ValueError("the window cannot be negative")
    _check_codes(purchases, n_antecedents, "antecedent")
    _check_codes(consumptions, n_consequents, "consequent")
    pairs = np.zeros(n_antecedents * n_consequents, dtype=np.int64)
    candidates = 0
    if len(purchases) and len(consumptions):
        start = min(int(purchases.when.min()), int(consumptions.when.min()))
        span = max(int(purchases.when.max()), int(consumptions.when.max())) - start
        if span + window >= 1 << _TIME_BITS:
            raise ValueError("events span more than 136 years; pass times in seconds")
        candidates = _count_pairs(purchases, consumptions, start, window, n_antecedents, n_consequents,
                                  exclude_same, pairs)
    if people is None:
        people = int(_distinct(np.concatenate([purchases.who, consumptions.who])).size)
    return Counts(pairs.reshape(n_antecedents, n_consequents), _distinct_per_code(purchases, n_antecedents),
                  _distinct_per_code(consumptions, n_consequents), people, candidates)


def rules(counts: Counts, thresholds: Thresholds = Thresholds(), *, antecedent_names=None,
          consequent_names=None) -> pd.DataFrame:
    """One row per rule passing the thresholds, strongest lift first: antecedent, consequent, the three
    counts, support, confidence, lift."""
    a, c = np.nonzero(counts.pairs >= max(1, thresholds.min_pairs))
    pair = counts.pairs[a, c]
    ante, cons = counts.antecedents[a], counts.consequents[c]
    n = max(counts.people, 1)
    support = pair / n
    confidence = pair / ante
    lift = confidence / (cons / n)
    keep = (support >= thresholds.min_support) & (confidence >= thresholds.min_confidence) & (lift >= thresholds.min_lift)
    frame = pd.DataFrame({
        "antecedent": a[keep] if antecedent_names is None else np.asarray(antecedent_names, dtype=object)[a[keep]],
        "consequent": c[keep] if consequent_names is None else np.asarray(consequent_names, dtype=object)[c[keep]],
        "pair_count": pair[keep], "antecedent_count": ante[keep], "consequent_count": cons[keep],
        "support": support[keep], "confidence": confidence[keep], "lift": lift[keep],
    })
    return frame.sort_values(["lift", "pair_count"], ascending=[False, False], kind="stable").reset_index(drop=True)


def _check_codes(events: Events, n: int, side: str) -> None:
    if len(events) and (events.what.min() < 0 or events.what.max() >= n):
        raise ValueError(f"{side} codes must lie in 0..{n - 1}")


def _distinct_per_code(events: Events, n: int) -> np.ndarray:
    if not len(events):
        return np.zeros(n, dtype=np.int64)
    people_codes = _distinct(events.who * n + events.what)
    return np.bincount(people_codes % n, minlength=n).astype(np.int64)


def _count_pairs(purchases: Events, consumptions: Events, start: int, window: int, n_a: int, n_c: int,
                 exclude_same: bool, out: np.ndarray) -> int:
    """Adds the distinct (person, X, Y) pairs to `out` (flattened X * n_c + Y); returns the candidates."""
    c_order = np.lexsort((consumptions.when, consumptions.who))
    c_who, c_what = consumptions.who[c_order], consumptions.what[c_order]
    c_key = (c_who << _TIME_BITS) | (consumptions.when[c_order] - start)
    p_order = np.argsort(purchases.who, kind="stable")
    p_who, p_what = purchases.who[p_order], purchases.what[p_order]
    p_time = purchases.when[p_order] - start
    lo = np.searchsorted(c_key, (p_who << _TIME_BITS) | p_time, side="left")
    hi = np.searchsorted(c_key, (p_who << _TIME_BITS) | (p_time + window), side="right")
    per_purchase = hi - lo
    reach = np.cumsum(per_purchase)
    total = int(reach[-1]) if reach.size else 0
    begin = 0
    while begin < p_who.size:
        # Take purchases up to CHUNK_PAIRS candidates, then extend to the end of the last person.
        end = int(np.searchsorted(reach, (reach[begin - 1] if begin else 0) + CHUNK_PAIRS, side="right"))
        end = max(end, begin + 1)
        end = int(np.searchsorted(p_who, p_who[end - 1], side="right"))
        _add_chunk(p_who[begin:end], p_what[begin:end], lo[begin:end], per_purchase[begin:end], c_what, n_a, n_c,
                   exclude_same, out)
        begin = end
    return total


def _add_chunk(who, what, lo, k, c_what, n_a, n_c, exclude_same, out) -> None:
    size = int(k.sum())
    if size == 0:
        return
    which = np.repeat(np.arange(who.size), k)
    offset = np.arange(size) - np.repeat(np.cumsum(k) - k, k)
    y = c_what[lo[which] + offset]
    x = what[which]
    person = who[which] - who[0]  # small numbers: the key below cannot overflow
    if exclude_same:
        keep = x != y
        person, x, y = person[keep], x[keep], y[keep]
    key = _distinct((person * n_a + x) * n_c + y)
    out += np.bincount(key % (n_a * n_c), minlength=n_a * n_c)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. Sorting beats np.unique here: numpy 2's hash-based unique is several times
    slower on millions of scattered int64 keys."""
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
