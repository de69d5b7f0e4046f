"""The per-process nearby index: every store's position and ranking inputs, held in numpy arrays.

`GET /stores/nearby` is answered from memory. The stores' columns (nearby.table) and the postings that
let a query skip stores (nearby.postings) are built from the database, or mapped from a snapshot that
the first process of a deploy wrote (nearby.snapshot), and kept in step by polling `stores.updated_at`
and `merchants.updated_at` at most every `Freshness.interval_s` from the request's own session
(kit.freshness): a change made through any process shows up everywhere within about a second.
Changed stores are searched one by one beside the postings (nearby.delta) until there are enough of
them to build new postings.

A query is one compiled call (nearby.kernel): it walks the postings outward from the customer and
scores exactly only the stores whose bounds can still reach the `limit`-th best found so far. Promoted
stores are scored beside it and placed as geo.ranking says; a hit's `score_parts` are made when read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy.orm import Session

from daodian.geo import ranking
from daodian.kit.clock import utcnow
from daodian.kit.freshness import Freshness
from daodian.nearby import kernel, loader, shared_views, snapshot
from daodian.nearby.categories import Subtrees
from daodian.nearby.delta import Delta
from daodian.nearby.grid import CELL_M, spatial_order
from daodian.nearby.opening import OpeningRules
from daodian.nearby.postings import ALL, POTENTIAL_MAX, STATIC_STEP, Postings
from daodian.nearby.promotions import Promotions
from daodian.nearby.shared_views import SharedViews
from daodian.nearby.store_json import StoreJson
from daodian.nearby.table import STATUS_CODE, StoreTable

log = logging.getLogger("daodian.nearby")

_REBUILD_SHARE, _REBUILD_MIN = 0.01, 2_000  # new postings once the delta holds more than this share or count
_PRIOR_DRIFT = 0.02  # or once the prior mean moved this far from the postings' (it loosens every bound)
SNAPSHOT_MIN_STORES = 50_000  # smaller databases are read at start-up: quicker than a snapshot's upkeep


class SortBy(StrEnum):
    SCORE = "score"
    DISTANCE = "distance"


class Hit(NamedTuple):
    """One result. Its numbers are kept as the ranking worked them out (nearby.kernel's values: per part in
    WEIGHTS' order, the raw value, the normalised value and the points; then the score); `score_parts`, the
    form a response shows, is made from them when read."""

    store_id: int
    promoted: bool
    values: list[float]

    @property
    def distance_m(self) -> float:
        return self.values[0]

    @property
    def open_now(self) -> bool:
        return self.values[3] == 1.0

    @property
    def score(self) -> float:
        return self.values[12]

    @property
    def score_parts(self) -> dict[str, dict[str, float]]:
        """Raw value, normalised value, weight and points per part, as geo.ranking.Scores.parts gives them."""
        v = self.values
        return {"distance": {"value": round(v[0], 3), "normalized": v[4], "weight": _W_DISTANCE, "points": v[8]},
                "rating": {"value": round(v[1], 3), "normalized": v[5], "weight": _W_RATING, "points": v[9]},
                "popularity": {"value": round(v[2], 3), "normalized": v[6], "weight": _W_POPULARITY, "points": v[10]},
                "open_now": {"value": round(v[3], 3), "normalized": v[7], "weight": _W_OPEN, "points": v[11]}}


_W_DISTANCE, _W_RATING, _W_POPULARITY, _W_OPEN = (ranking.WEIGHTS[k] for k in ("distance", "rating", "popularity", "open_now"))
assert list(ranking.WEIGHTS) == ["distance", "rating", "popularity", "open_now"]  # the kernel's order too
_new = tuple.__new__


@dataclass(frozen=True)
class NearbyResult:
    hits: list[Hit]
    prior_mean: float
    slots: list[int]  # each hit's slot in the table (where nearby.shared_views finds its view)


@dataclass(frozen=True)
class _Searchable:
    """What a query reads, swapped as one: postings and the delta beside them."""

    postings: Postings
    delta: Delta


class StoreIndex:
    def __init__(self, table: StoreTable, postings: Postings, codes: dict[int, int], source: Any = None):
        self.source = source  # the session factory it was built from
        self.freshness = Freshness()
        self.table = table
        self.codes = codes  # service category id -> postings code
        self.promotions = Promotions()
        self.applied: dict[int, float] = {}  # slot -> stamp of the last change applied, for recent ones
        self.snapshot: str | None = None  # the snapshot it was mapped from
        self.categories = Subtrees()
        self.views = StoreJson()  # the stores' views as shown, forgotten when a store changes
        self._now = _Searchable(postings, Delta.empty(len(table)))

    def __len__(self) -> int:
        return len(self.table)

    @property
    def postings(self) -> Postings:
        return self._now.postings

    @property
    def delta(self) -> Delta:
        return self._now.delta

    @property
    def prior(self) -> float:
        return self.table.prior

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def build(cls, session: Session, source: Any = None) -> StoreIndex:
        """Read every store from the database."""
        started = utcnow()
        newest = loader.newest_change(session)
        table = loader.load_table(session)
        n = len(table)
        table.update_prior()
        table.seal(spatial_order(table.col("lat")[:n], table.col("lng")[:n],
                                 table.static_points(slice(0, n)) + table.openable(slice(0, n))))
        store_ids, category_ids = loader.category_pairs(session)
        codes = {int(c): i + 1 for i, c in enumerate(np.unique(category_ids))}
        slots = table.slots_of(store_ids)
        listed = table.col("listed")
        keep = (slots >= 0) & listed[np.maximum(slots, 0)]
        everyone = np.flatnonzero(listed[:n])
        pair_codes = np.array([codes[c] for c in category_ids[keep].tolist()], dtype=np.int64)
        postings = _postings(table, np.r_[np.full(len(everyone), ALL), pair_codes], np.r_[everyone, slots[keep]])
        index = cls(table, postings, codes, source)
        index._start(session, max(started, newest) if newest else started)
        return index

    def write_snapshot(self, directory: Path, session: Session) -> Path:
        """Write the stores as built (not any change since) and the watermark they are good to."""
        newest = session.execute(loader.newest_store()).first()
        manifest = snapshot.Manifest(
            snapshot.FORMAT, str(directory.name), self.freshness.watermark.isoformat(), len(self.table),
            (newest[0], newest[1].isoformat()) if newest else None, self.table.prior, self.postings.prior,
            self.postings.cell_m, {str(k): v for k, v in self.codes.items()}, list(self.table.rules.tz_names))
        arrays = {**self.table.arrays(), **self.table.rules.arrays(),
                  **{f"postings_{k}": v for k, v in self.postings.arrays().items()},
                  "applied_slot": np.fromiter(self.applied, dtype=np.int64, count=len(self.applied)),
                  "applied_at": np.fromiter(self.applied.values(), dtype=np.float64, count=len(self.applied))}
        columns = self.table.arrays()  # the views read after the columns: none older than its store's row
        arrays.update(shared_views.arrays(session, columns["id"], columns["listed"]))
        return snapshot.write(directory, manifest, arrays)

    @classmethod
    def from_snapshot(cls, path: Path, session: Session, source: Any = None) -> StoreIndex:
        """Map a snapshot's arrays (shared with every process mapping them), then catch up from its watermark."""
        manifest, arrays = snapshot.read(path)
        rules = OpeningRules.from_arrays(arrays, manifest.tz_names)
        table = StoreTable(arrays, rules)
        table.prior = manifest.prior
        postings = Postings.from_arrays(manifest.cell_m, manifest.postings_prior,
                                        {k.removeprefix("postings_"): v for k, v in arrays.items() if k.startswith("postings_")})
        index = cls(table, postings, {int(k): v for k, v in manifest.codes.items()}, source)
        index.snapshot = path.name
        index.views = StoreJson(SharedViews(arrays, snapshot.open_for_reads(path, "views_records")))  # before catching up, which forgets the stores changed since
        index.applied = dict(zip(arrays["applied_slot"].tolist(), arrays["applied_at"].tolist()))
        index._start(session, manifest.watermark_at, stamps=False)
        index.refresh(session, force=True)
        return index

    def _start(self, session: Session, watermark: datetime, *, stamps: bool = True) -> None:
        """Read the promotions, note the stamps the first polls will see again, and start polling."""
        windows = loader.promotion_windows(session, None)
        ids = sorted(windows)
        cats = loader.categories_of(session, ids)
        slots = self.table.slots_of(np.array(ids, dtype=np.int64)).tolist()
        self.promotions = self.promotions.changed(
            [(slot, tuple(windows[i]), self._codes_of(cats.get(i, ()))) for i, slot in zip(ids, slots) if slot >= 0])
        if stamps:
            found = loader.stamps_since(session, watermark - self.freshness.overlap)
            slots = self.table.slots_of(np.array([i for i, _ in found], dtype=np.int64)).tolist()
            self.applied.update((s, at.timestamp()) for s, (_, at) in zip(slots, found) if s >= 0)
        self.freshness.start_from(watermark)

    def _codes_of(self, category_ids) -> tuple[int, ...]:
        for c in category_ids:
            if c not in self.codes:
                self.codes[c] = max(self.codes.values(), default=0) + 1
        return tuple(self.codes[c] for c in category_ids)

    # --- staying fresh -------------------------------------------------------------------------

    def refresh(self, session: Session, *, force: bool = False) -> None:
        """Apply changes made since the last poll (by any process), if a poll is due (kit.freshness)."""
        self.freshness.poll(session, self._fetch_changed, self._apply, lambda c: c.updated_at, force=force)

    def _fetch_changed(self, session: Session, since: datetime):
        if len(self.applied) > 10_000:  # stamps older than any a poll will read again skip nothing
            cut = (since - timedelta(seconds=1)).timestamp()
            self.applied = {s: at for s, at in self.applied.items() if at > cut}
        return loader.fetch_changed(session, since, self.table, self.applied)

    def _apply(self, changes) -> None:
        table = self.table
        table.set_merchants([(c.merchant_id, "active" if c.active else "suspended")
                             for c in changes if isinstance(c, loader.MerchantChange)])
        stores = [c for c in changes if isinstance(c, loader.StoreChange)]
        rows = [c.row for c in stores]
        slots = table.slots_of(np.array([r.id for r in rows], dtype=np.int64))
        listed = table.listable(np.array([r.merchant_id for r in rows], dtype=np.int64),
                                np.array([STATUS_CODE[r.status] for r in rows], dtype=np.int8))
        # Polls overlap (kit.freshness), so most rows come again unchanged: skip those.
        fresh = [s < 0 or self.applied.get(s) != c.updated_at.timestamp() or bool(table.col("listed")[s]) != li
                 for c, s, li in zip(stores, slots.tolist(), listed.tolist())]
        stores, rows, listed = ([x for x, f in zip(xs, fresh) if f] for xs in (stores, rows, listed.tolist()))
        if not stores:
            return
        self.views.forget(r.id for r in rows)
        slots = table.slots_of(np.array([r.id for r in rows], dtype=np.int64))
        new = slots < 0
        if new.any():  # appended as they are: no posting holds them, so the delta will
            slots[new] = table.append([r for r, n in zip(rows, new) if n])
        codes = [self._codes_of(c.categories) if li else None for c, li in zip(stores, listed)]
        # The delta first: from here on queries read these stores one by one, whatever their columns say.
        self._now = _Searchable(self.postings, self.delta.changed(slots.tolist(), codes))
        table.write(rows, slots)
        self.promotions = self.promotions.changed(
            [(int(s), c.promotions, self._codes_of(c.categories)) for s, c in zip(slots, stores)])
        self.applied.update((int(s), c.updated_at.timestamp()) for s, c in zip(slots, stores))
        table.update_prior()
        if (len(self.delta) > max(_REBUILD_MIN, _REBUILD_SHARE * len(self.postings))
                or abs(table.prior - self.postings.prior) > _PRIOR_DRIFT):
            self.rebuild()

    def rebuild(self) -> None:
        """New postings from the old ones' live members and the delta, at today's prior."""
        now = self._now
        codes, slots = now.postings.pairs()
        live = ~now.delta.dead[slots] if len(now.delta.dead) else np.ones(len(slots), bool)
        extra = [(code, slot) for slot, these in now.delta.member.items() for code in these]
        codes = np.r_[codes[live], np.array([c for c, _ in extra], dtype=np.int64)]
        slots = np.r_[slots[live], np.array([s for _, s in extra], dtype=np.int64)]
        self._now = _Searchable(_postings(self.table, codes, slots, now.postings.cell_m), Delta.empty(len(self.table)))
        log.info("nearby postings rebuilt: %d stores posted", len(self.postings))

    # --- answering -----------------------------------------------------------------------------

    def search(self, lat: float, lng: float, radius_m: float, *, category_ids: list[int] | None,
               open_only: bool, limit: int, now: datetime | None = None,
               sort: SortBy = SortBy.SCORE) -> NearbyResult:
        """Listed stores within `radius_m` of the WGS-84 point, best first (see geo.ranking) or nearest first."""
        codes = _ALL if category_ids is None else np.array(
            [self.codes[c] for c in category_ids if c in self.codes], dtype=np.int64)
        now = now or utcnow()
        table, searchable = self.table, self._now
        postings, delta = searchable.postings, searchable.delta
        by_distance = sort == SortBy.DISTANCE
        k_slot, k_id = np.empty(limit, dtype=np.int64), np.empty(limit, dtype=np.int64)
        k_vals = np.empty((limit + 1, kernel.VALUES))
        # The slack of a bound: the static points' step and their drift since the postings, and rounding.
        slack = STATIC_STEP + ranking.RATING_POINTS_PER_PRIOR * abs(table.prior - postings.prior) + 2e-6 + ranking.ROUNDING_SLACK
        open_bits = table.rules.every(now)
        found = kernel.search(
            float(lat), float(lng), float(radius_m), codes, limit, open_only, by_distance, table.prior, slack,
            POTENTIAL_MAX, *postings.kernel_arrays, *table.kernel_columns(), open_bits,
            delta.dead if delta.dead_count else _NO_DEAD, delta.slots_for(codes), k_slot, k_id, k_vals)
        ids, values = k_id[:found].tolist(), k_vals[:found].tolist()
        promoted = {} if by_distance or not self.promotions.windows else self._promoted(
            lat, lng, radius_m, codes, open_only, now, open_bits)
        if not promoted:
            return NearbyResult([_new(Hit, (i, False, v)) for i, v in zip(ids, values)], self.prior, k_slot[:found].tolist())
        # Promotion slots (docs/ranking.md): the organic order, with the promoted stores of the query lifted.
        slots = k_slot[:found].tolist()
        values_of = dict(zip(slots, values))
        ids_of = dict(zip(slots, ids))
        for slot, (store_id, v) in promoted.items():
            values_of[slot], ids_of[slot] = v, store_id
        placed = ranking.place_promotions(slots, list(promoted), limit)
        return NearbyResult([_new(Hit, (ids_of[s], lifted, values_of[s])) for s, lifted in placed], self.prior,
                            [s for s, _ in placed])

    def compile(self) -> None:
        """Load (or, the first time on a machine, compile) the query's machine code now rather than on the
        first request: a query and a promoted store's scoring, on this index's arrays."""
        self.search(0.0, 0.0, 1.0, category_ids=None, open_only=False, limit=1)
        table = self.table
        kernel.score_slots(0.0, 0.0, np.empty(0, dtype=np.int64), table.prior, *table.kernel_columns(with_ids=False),
                           table.rules.every(utcnow()), np.empty((0, kernel.VALUES)))

    def _promoted(self, lat: float, lng: float, radius_m: float, codes: np.ndarray, open_only: bool, now: datetime,
                  open_bits: np.ndarray) -> dict[int, tuple[int, list[float]]]:
        """Slot -> (store id, values) of the query's stores with a promotion running, best first (ties:
        nearer, then lower id)."""
        slots = self.promotions.running(self.table, lat, lng, radius_m, codes.tolist(), now)
        if not len(slots):
            return {}
        values = np.empty((len(slots), kernel.VALUES))
        table = self.table
        kernel.score_slots(float(lat), float(lng), slots, table.prior, *table.kernel_columns(with_ids=False),
                           open_bits, values)
        if open_only:
            slots, values = slots[values[:, 3] == 1.0], values[values[:, 3] == 1.0]
        ids = table.col("id")[slots]
        order = np.lexsort((ids, values[:, 0], -values[:, 12]))
        return dict(zip(slots[order].tolist(), zip(ids[order].tolist(), values[order].tolist())))


_ALL = np.array([ALL], dtype=np.int64)
_NO_DEAD = np.zeros(0, dtype=bool)


def _postings(table: StoreTable, codes: np.ndarray, slots: np.ndarray, cell_m: float = CELL_M) -> Postings:
    n = len(table)
    return Postings.build(codes, slots, table.col("lat"), table.col("lng"), table.static_points(slice(0, n)),
                          table.openable(slice(0, n)), table.col("rule"), table.prior, cell_m)


# --- one index per app -------------------------------------------------------------------------------



def open_index(session: Session, source: Any = None, *, directory: Path | None = None,
               min_stores: int = SNAPSHOT_MIN_STORES) -> StoreIndex:
    """The index of the session's database: mapped from its newest snapshot if that is still good (one
    identity check and a count of changes since), else built, written as a snapshot (by the first
    process to get the lock; the others wait and map it), and mapped. Small or unnamed databases
    (in memory, a test's connection) are read directly."""
    key = snapshot.database_key(session)
    if key is None or loader.store_count(session) < min_stores:
        return StoreIndex.build(session, source)
    where = (directory or snapshot.DEFAULT_DIR) / key
    with snapshot.exclusive(where):
        found = snapshot.latest(where)
        if found is None or not _still_good(session, snapshot.read_manifest(found)):
            started = utcnow()
            found = StoreIndex.build(session, source).write_snapshot(where, session)
            log.info("nearby snapshot written in %.1f s: %s", (utcnow() - started).total_seconds(), found)
        return StoreIndex.from_snapshot(found, session, source)


def _still_good(session: Session, manifest: snapshot.Manifest | None) -> bool:
    if manifest is None:
        return False
    newest = (manifest.newest_store[0], datetime.fromisoformat(manifest.newest_store[1])) if manifest.newest_store else None
    return loader.still_holds(session, manifest.stores, newest, manifest.watermark_at - Freshness().overlap,
                              max(_REBUILD_MIN, _REBUILD_SHARE * manifest.stores))
