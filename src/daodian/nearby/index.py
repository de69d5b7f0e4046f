"""The per-process nearby index: every store's position and ranking inputs, held in numpy arrays.

`GET /stores/nearby` is answered from memory. The stores' columns (nearby.table) and the postings that
let a query skip stores (nearby.postings) are built from the database, or mapped from a snapshot that
the first process of a deploy wrote (nearby.snapshot), and kept in step by polling `stores.updated_at`
and `merchants.updated_at` at most every `Freshness.interval_s` from the request's own session
(kit.freshness): a change made through any process shows up everywhere within about a second.
Changed stores are searched one by one beside the postings (nearby.delta) until there are enough of
them to build new postings.

Ranking by score never scores every store in the radius: the best few of each cell of a small circle
around the customer are ranked first, and the `limit`-th best of them is a floor that every other store
must be able to reach, judged by its cell's distance and its own rating, popularity and opening
(nearby.candidates).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from daodian.geo import ranking
from daodian.geo.distance import unit_vectors
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.freshness import Freshness
from daodian.nearby import loader, snapshot
from daodian.nearby.candidates import Bounded, Query, Scored, bounded, exact, nearest
from daodian.nearby.categories import Subtrees
from daodian.nearby.delta import Delta
from daodian.nearby.grid import CELL_M, spatial_order
from daodian.nearby.opening import OpeningRules
from daodian.nearby.postings import ALL, Postings
from daodian.nearby.promotions import Promotions
from daodian.nearby.table import STATUS_CODE, StoreTable

log = logging.getLogger("daodian.nearby")

_FULL_SCAN = 1500  # up to about this many stores in the radius, rank them all at once
_FIRST_SCAN = 300  # else a circle holding about this many gives the floor (from the best of each cell)
_REBUILD_SHARE, _REBUILD_MIN = 0.01, 2_000  # new postings once the delta holds more than this share or count
_PRIOR_DRIFT = 0.02  # or once the prior mean moved this far from the postings' (it loosens every bound)
SNAPSHOT_MIN_STORES = 50_000  # smaller databases are read at start-up: quicker than a snapshot's upkeep


class SortBy(StrEnum):
    SCORE = "score"
    DISTANCE = "distance"


@dataclass(frozen=True)
class Hit:
    store_id: int
    distance_m: float
    open_now: bool
    score: float
    score_parts: dict[str, dict[str, float]]
    promoted: bool


@dataclass(frozen=True)
class NearbyResult:
    hits: list[Hit]
    prior_mean: float


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
        codes = [ALL] if category_ids is None else [self.codes[c] for c in category_ids if c in self.codes]
        searchable = self._now
        query = Query(self.table, unit_vectors(lat, lng)[0], lat, lng, radius_m, codes, searchable.postings,
                      searchable.delta, open_only, now or utcnow())
        total = query.total()
        if sort == SortBy.DISTANCE:
            found = nearest(query, limit, _first_reach(radius_m, total, 2 * limit))
            return self._result(found, np.arange(len(found)), [])
        promoted = self.promotions.running(self.table, lat, lng, radius_m, codes, query.now)
        kth = None
        if total + len(promoted) > _FULL_SCAN:
            # A busy district holds far more stores in the radius than can make the results: the best
            # few of each cell of a small circle around the customer (widened until it has `limit`)
            # set a floor, the limit-th best; the rest of the radius must be able to reach it.
            reach = _first_reach(radius_m, total, _FIRST_SCAN)
            while True:
                kth = self._ranked(query, lat, lng, reach, promoted, -math.inf, limit).kth_low(limit, radius_m)
                if kth is not None or reach >= radius_m:
                    break
                reach = min(radius_m, reach * 2)
        found = self._ranked(query, lat, lng, radius_m, promoted, -math.inf if kth is None else kth)
        kth = found.kth_low(limit, radius_m)
        if kth is not None:  # only these can be among the best `limit` (or be promoted into them)
            found = found.where((found.high >= kth) | (np.isin(found.slots, promoted) if len(promoted) else False))
        ranked = exact(query, found)
        ids = self.table.col("id")[ranked.slots]
        score, dist = ranked.scores.score, ranked.distance_m
        organic = ranking.organic_order(score, dist, ids, limit)
        lifted = np.flatnonzero(np.isin(ranked.slots, promoted)) if len(promoted) else np.empty(0, np.intp)
        lifted = lifted[np.lexsort((ids[lifted], dist[lifted], -score[lifted]))]
        placed = ranking.place_promotions(organic.tolist(), lifted.tolist(), limit)
        return self._result(ranked, np.array([i for i, _ in placed], dtype=np.intp), [p for _, p in placed])

    def _ranked(self, query: Query, lat: float, lng: float, reach: float, promoted: np.ndarray,
                floor: float, best: int | None = None) -> Bounded:
        """Candidates of the query (around lat, lng) within `reach` whose score may reach `floor` (or the
        `best` of each cell), plus the promoted ones of the radius, with bounds on their scores."""
        return bounded(query, reach, promoted, floor, best)

    def _result(self, found: Scored, at: np.ndarray, lifted: list[bool]) -> NearbyResult:
        scores = found.scores
        ids = self.table.col("id")[found.slots[at]].tolist()
        rows = zip(ids, found.distance_m[at].tolist(), found.open_now[at].tolist(), scores.score[at].tolist(),
                   scores.parts_of(at), lifted or [False] * len(at))
        return NearbyResult([Hit(*row) for row in rows], self.prior)


def _postings(table: StoreTable, codes: np.ndarray, slots: np.ndarray, cell_m: float = CELL_M) -> Postings:
    n = len(table)
    return Postings.build(codes, slots, table.col("lat"), table.col("lng"), table.static_points(slice(0, n)),
                          table.openable(slice(0, n)), table.col("rule"), table.prior, cell_m)


def _first_reach(radius_m: float, total: int, wanted: int) -> float:
    """A circle that holds about `wanted` of `total` stores in the radius (spread evenly)."""
    return radius_m if total <= wanted else max(radius_m * math.sqrt(wanted / total), 1.0)


# --- one index per app -------------------------------------------------------------------------------

_build_lock = threading.Lock()


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


def index_for(state: Any, session: Session) -> StoreIndex:
    """The app's index, (re)built from `session` if missing or built from another session factory."""
    factory = state.session_factory
    index = getattr(state, "nearby", None)
    if index is None or index.source is not factory:
        with _build_lock:
            index = getattr(state, "nearby", None)
            if index is None or index.source is not factory:
                index = state.nearby = open_index(session, factory)
    return index


def _return_freed_arrays_to_the_system() -> None:
    """Keep glibc's mmap threshold where it starts. By default it rises to the size of the largest block
    freed (up to 32 MB), after which numpy's temporaries come from per-thread heaps that keep their freed
    memory: one worker of a server grew by 200 MB so after a burst of concurrent requests. Fixed, every
    array above 128 KB is mapped on its own and handed back when freed. (Process-wide: set here because
    the nearby index is what makes such arrays; harmless elsewhere, and a no-op off glibc.)"""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def warm_up(state: Any) -> None:
    """Open the index at start-up; on failure (e.g. an unmigrated database) the first request retries."""
    _return_freed_arrays_to_the_system()
    factory: sessionmaker[Session] = state.session_factory
    try:
        with unit_of_work(factory, read_only=True) as session:
            state.nearby = open_index(session, factory)
        log.info("nearby index: %d stores%s", len(state.nearby),
                 f" (snapshot {state.nearby.snapshot})" if state.nearby.snapshot else "")
    except SQLAlchemyError:
        log.exception("nearby index not built at start-up; the first nearby request will retry")
