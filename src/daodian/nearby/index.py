"""The per-process nearby index: every store's position and ranking inputs held in numpy arrays.

`GET /stores/nearby` is answered from memory. Each app process builds the index at start-up from
the database (bulk Core selects, no ORM objects) and keeps it in step by polling `stores.updated_at`
and `merchants.updated_at` at most every `Freshness.interval_s` from the request's own session
(kit.freshness), so a change made through any process shows up everywhere within about a second.
Promotions reach the index because creating or cancelling one stamps the store's `updated_at`.

Stores are addressed by slot (their row in the arrays; slots never move). Only listed stores
(store not closed, merchant active) are in the spatial indexes: one over all of them and one per
service category, so a category query in a dense district scans that category's stores only.
Paused stores are listed but never open. Opening hours are interned as patterns (stores share a
few) and checked for the candidates of a query only, vectorised, in each store's own time zone.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Text, cast, func, literal, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from daodian.geo import ranking
from daodian.geo.distance import haversine_m_arrays
from daodian.geo.index import GeoIndex
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.freshness import Freshness
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreCategory, StorePromotion, StoreStatus
from daodian.nearby.hours import Growable, WeekHours

log = logging.getLogger("daodian.nearby")

STATUS_CODE = {StoreStatus.OPEN: 0, StoreStatus.PAUSED: 1, StoreStatus.CLOSED: 2}
OPEN, CLOSED = STATUS_CODE[StoreStatus.OPEN], STATUS_CODE[StoreStatus.CLOSED]

_STORE_COLUMNS = (Store.id, Store.merchant_id, Store.lat, Store.lng, Store.status, Store.timezone,
                  cast(Store.hours, Text), cast(Store.closed_dates, Text), Store.rating_avg, Store.rating_count,
                  Store.popularity, Store.updated_at)
_CHUNK = 50_000
_FULL_SCAN = 20_000  # up to this many stores in the radius, rank them all at once
_FIRST_SCAN = 5_000  # else start with a circle holding about this many


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


class _StoreChange(NamedTuple):
    row: Any
    categories: tuple[int, ...]
    promotions: tuple[tuple[float, float], ...]
    updated_at: datetime


class _MerchantChange(NamedTuple):
    merchant_id: int
    active: bool
    updated_at: datetime


class _Tick(NamedTuple):
    """When a poll started. Everything stamped before it (less the overlap) has been seen, so the
    watermark may move here even when nothing changed: otherwise the rows of the last burst of
    changes (a bulk import: a million) would be read again on every poll until the next change."""

    updated_at: datetime


class StoreIndex:
    def __init__(self, source: Any = None):
        self.source = source  # the session factory it was built from
        self.freshness = Freshness()
        self.hours = WeekHours()
        self.tz_names: list[str] = []
        self._tz_codes: dict[str, int] = {}
        self._base_ids = np.empty(0, dtype=np.int64)  # ids of slots 0..n0-1, sorted (from the build)
        self._extra_slots: dict[int, int] = {}  # slots of stores added after the build
        self.cols = {name: Growable(dtype) for name, dtype in (
            ("id", np.int64), ("merchant_id", np.int64), ("lat", np.float64), ("lng", np.float64),
            ("status", np.int8), ("tz", np.int16), ("pattern", np.int32), ("rating_avg", np.float64),
            ("rating_count", np.int64), ("popularity", np.int64), ("listed", np.bool_), ("applied_at", np.float64))}
        self.merchant_active = Growable(np.bool_)  # by merchant id
        self.all = GeoIndex()
        self.by_category: dict[int, GeoIndex] = {}
        self.promotions: dict[int, tuple[tuple[float, float], ...]] = {}  # slot -> windows (epoch s)
        self.promotion_windows = (np.empty(0, np.int64), np.empty(0), np.empty(0))  # slots, starts, ends
        self.prior = ranking.PRIOR_MEAN_DEFAULT

    def __len__(self) -> int:
        return self.cols["id"].n

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def build(cls, session: Session, source: Any = None) -> StoreIndex:
        index = cls(source)
        started = utcnow()
        newest = [session.scalar(select(func.max(t.updated_at))) for t in (Store, Merchant)]
        for part in _raw_chunks(session, select(Merchant.id, Merchant.status)):
            index._set_merchants(part)
        # Without updated_at (the last column): turning a million stamps into datetimes costs seconds.
        for part in _raw_chunks(session, select(*_STORE_COLUMNS[:-1], literal(None)).order_by(Store.id)):
            index._append_rows(part)
        index._base_ids = index.cols["id"].array[: len(index)].copy()
        slots = np.arange(len(index))
        listed = index._listed(slots)
        index.cols["listed"].array[: len(index)] = listed
        index.all = GeoIndex(slots[listed], index.cols["lat"].array[slots[listed]], index.cols["lng"].array[slots[listed]])
        index._build_categories(session, listed)
        index._set_promotions(index._promotion_windows(session, None))
        index._update_prior()
        watermark = max([started, *(t for t in newest if t is not None)])
        index._stamp_recent(session, watermark - index.freshness.overlap)
        index.freshness.start_from(watermark)
        return index

    def _stamp_recent(self, session: Session, since: datetime) -> None:
        """Record the stamps of rows the first polls will see again, so they are not read in full again."""
        stamps = session.connection().execute(select(Store.id, Store.updated_at).where(Store.updated_at > since)).all()
        slots = self._slots_of(np.array([i for i, _ in stamps], dtype=np.int64))
        at = np.array([t.timestamp() for _, t in stamps])
        self.cols["applied_at"].array[slots[slots >= 0]] = at[slots >= 0]

    def _set_merchants(self, rows) -> None:
        """Record (merchant id, status) pairs: which merchants are active."""
        if not rows:
            return
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if ids.max() >= self.merchant_active.n:
            self.merchant_active.extend(np.zeros(int(ids.max()) + 1 - self.merchant_active.n, dtype=bool))
        self.merchant_active.array[ids] = [r[1] == MerchantStatus.ACTIVE for r in rows]

    def _append_rows(self, rows) -> np.ndarray:
        first = len(self)
        columns = list(zip(*rows)) if rows else [()] * len(_STORE_COLUMNS)
        ids, merchant_ids, lat, lng, status, tz, hours, closed, avg, count, popularity, _ = columns
        # Map each distinct value once: a million stores share a few zones and hour patterns.
        zones = {t: self._tz_code(t) for t in set(tz)}
        texts = list(zip(hours, closed))
        patterns = {key: self.hours.intern(*key) for key in set(texts)}
        values = {"id": ids, "merchant_id": merchant_ids, "lat": lat, "lng": lng,
                  "status": [STATUS_CODE[s] for s in status], "tz": [zones[t] for t in tz],
                  "pattern": [patterns[key] for key in texts],
                  "rating_avg": avg, "rating_count": count, "popularity": popularity,
                  "listed": np.zeros(len(ids), bool), "applied_at": np.zeros(len(ids))}
        for name, column in values.items():
            self.cols[name].extend(column)
        return np.arange(first, len(self))

    def _tz_code(self, name: str) -> int:
        code = self._tz_codes.get(name)
        if code is None:
            code = self._tz_codes[name] = len(self.tz_names)
            self.tz_names.append(name)
        return code

    def _listed(self, slots: np.ndarray) -> np.ndarray:
        return self._listable(self.cols["merchant_id"].array[slots], self.cols["status"].array[slots])

    def _listable(self, merchant_ids: np.ndarray, status: np.ndarray) -> np.ndarray:
        """Listed: the store is not closed and its merchant is active."""
        known = merchant_ids < self.merchant_active.n
        active = np.zeros(len(merchant_ids), dtype=bool)
        active[known] = self.merchant_active.array[merchant_ids[known]]
        return active & (status != CLOSED)

    def _build_categories(self, session: Session, listed: np.ndarray) -> None:
        chunks = [np.array(part, dtype=np.int64) for part in
                  _raw_chunks(session, select(StoreCategory.store_id, StoreCategory.category_id))]
        pairs = np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.int64)
        slots = self._slots_of(pairs[:, 0])
        keep = (slots >= 0) & listed[np.maximum(slots, 0)] if len(slots) else np.zeros(0, bool)
        slots, cats = slots[keep], pairs[keep, 1]
        lat, lng = self.cols["lat"].array, self.cols["lng"].array
        for cat in np.unique(cats):
            members = slots[cats == cat]
            self.by_category[int(cat)] = GeoIndex(members, lat[members], lng[members])

    def _slots_of(self, ids: np.ndarray) -> np.ndarray:
        """Slot of each store id, -1 where unknown."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self._base_ids, ids)
        inside = pos < len(self._base_ids)
        found = np.zeros(len(ids), dtype=bool)
        found[inside] = self._base_ids[pos[inside]] == ids[inside]
        slots = np.where(found, pos, -1)
        for i in np.flatnonzero(~found):
            slots[i] = self._extra_slots.get(int(ids[i]), -1)
        return slots

    @staticmethod
    def _promotion_windows(session: Session, store_ids: list[int] | None) -> dict[int, list[tuple[float, float]]]:
        stmt = select(StorePromotion.store_id, StorePromotion.starts_at, StorePromotion.ends_at).where(
            StorePromotion.cancelled_at.is_(None), StorePromotion.ends_at > utcnow())
        if store_ids is not None:
            stmt = stmt.where(StorePromotion.store_id.in_(store_ids))
        windows: dict[int, list[tuple[float, float]]] = {}
        for store_id, starts, ends in session.execute(stmt):
            windows.setdefault(store_id, []).append((starts.timestamp(), ends.timestamp()))
        return windows

    def _set_promotions(self, windows: dict[int, list[tuple[float, float]]]) -> None:
        ids = np.fromiter(windows, dtype=np.int64, count=len(windows))
        for store_id, slot in zip(ids, self._slots_of(ids)):
            if slot >= 0:
                self.promotions[int(slot)] = tuple(windows[int(store_id)])
        self._flatten_promotions()

    def _flatten_promotions(self) -> None:
        flat = [(slot, s, e) for slot, windows in self.promotions.items() for s, e in windows]
        self.promotion_windows = (np.array([f[0] for f in flat], dtype=np.int64),
                                  np.array([f[1] for f in flat]), np.array([f[2] for f in flat]))

    def _update_prior(self) -> None:
        n = len(self)
        listed = self.cols["listed"].array[:n]
        self.prior = ranking.prior_mean(self.cols["rating_avg"].array[:n][listed],
                                        self.cols["rating_count"].array[:n][listed])

    # --- staying fresh -------------------------------------------------------------------------

    def refresh(self, session: Session, *, force: bool = False) -> None:
        """Apply changes made since the last poll (by any process), if a poll is due (kit.freshness)."""
        self.freshness.poll(session, self._fetch_changed, self._apply, lambda c: c.updated_at, force=force)

    def _fetch_changed(self, session: Session, since: datetime) -> list[_StoreChange | _MerchantChange | _Tick]:
        tick = _Tick(utcnow())
        conn = session.connection()
        merchants = [_MerchantChange(m_id, status == MerchantStatus.ACTIVE, at) for m_id, status, at in conn.execute(
            select(Merchant.id, Merchant.status, Merchant.updated_at).where(Merchant.updated_at > since))]
        flipped = [m.merchant_id for m in merchants
                   if m.merchant_id >= self.merchant_active.n or self.merchant_active.array[m.merchant_id] != m.active]
        # Polls overlap, so most stamps seen here were applied already: read (id, stamp) first, from
        # the updated_at index, and whole rows only for what is new. A bulk change costs one full
        # read per process, not one per poll until the overlap has passed.
        stamps = conn.execute(select(Store.id, Store.updated_at).where(Store.updated_at > since)).all()
        ids = np.array([i for i, _ in stamps], dtype=np.int64)
        slots = self._slots_of(ids)
        seen = np.array([at.timestamp() for _, at in stamps]) == self.cols["applied_at"].array[np.maximum(slots, 0)]
        wanted = ids[(slots < 0) | ~seen].tolist()
        rows = []
        if flipped:
            rows += conn.execute(select(*_STORE_COLUMNS).where(Store.merchant_id.in_(flipped))).all()
        for i in range(0, len(wanted), 10_000):
            rows += conn.execute(select(*_STORE_COLUMNS).where(Store.id.in_(wanted[i:i + 10_000]))).all()
        rows = list({r.id: r for r in rows}.values())  # a store may come both ways
        ids = sorted(r.id for r in rows)
        categories: dict[int, list[int]] = {}
        for i in range(0, len(ids), 10_000):
            for store_id, cat in conn.execute(select(StoreCategory.store_id, StoreCategory.category_id)
                                              .where(StoreCategory.store_id.in_(ids[i:i + 10_000]))):
                categories.setdefault(store_id, []).append(cat)
        windows = self._promotion_windows(session, ids) if ids else {}
        stores = [_StoreChange(r, tuple(categories.get(r.id, ())), tuple(windows.get(r.id, ())), r.updated_at)
                  for r in rows]
        return [*merchants, *stores, tick]

    def _apply(self, changes: list[_StoreChange | _MerchantChange | _Tick]) -> None:
        self._set_merchants([(c.merchant_id, MerchantStatus.ACTIVE if c.active else MerchantStatus.SUSPENDED)
                             for c in changes if isinstance(c, _MerchantChange)])
        stores = [c for c in changes if isinstance(c, _StoreChange)]
        slots = self._slots_of(np.array([c.row.id for c in stores], dtype=np.int64))
        # Polls overlap (kit.freshness), so most rows come again unchanged: skip those.
        stamp = np.array([c.updated_at.timestamp() for c in stores])
        listable = self._listable(np.array([c.row.merchant_id for c in stores], dtype=np.int64),
                                  np.array([STATUS_CODE[c.row.status] for c in stores], dtype=np.int8))
        known = np.maximum(slots, 0)
        same = ((slots >= 0) & (self.cols["applied_at"].array[known] == stamp)
                & (self.cols["listed"].array[known] == listable))
        stores, slots = [c for c, s in zip(stores, same) if not s], slots[~same]
        if not stores:
            return
        new = [c.row for c, s in zip(stores, slots) if s < 0]
        if new:
            added = self._append_rows(new)
            for row, slot in zip(new, added):
                self._extra_slots[row.id] = int(slot)
            slots = self._slots_of(np.array([c.row.id for c in stores], dtype=np.int64))
        listed = self._write(stores, slots)
        self._reindex(stores, slots, listed)
        self._update_prior()

    def _write(self, stores: list[_StoreChange], slots: np.ndarray) -> np.ndarray:
        cols = self.cols
        for change, slot in zip(stores, slots):
            r = change.row
            values = {"merchant_id": r.merchant_id, "lat": r.lat, "lng": r.lng, "status": STATUS_CODE[r.status],
                      "tz": self._tz_code(r.timezone), "pattern": self.hours.intern(r[6], r[7]),
                      "rating_avg": r.rating_avg, "rating_count": r.rating_count, "popularity": r.popularity,
                      "applied_at": r.updated_at.timestamp()}
            for name, value in values.items():
                cols[name].array[slot] = value
            if change.promotions:
                self.promotions[int(slot)] = change.promotions
            else:
                self.promotions.pop(int(slot), None)
        self._flatten_promotions()
        listed = self._listed(slots)
        cols["listed"].array[slots] = listed
        return listed

    def _reindex(self, stores: list[_StoreChange], slots: np.ndarray, listed: np.ndarray) -> None:
        lat, lng = self.cols["lat"].array[slots], self.cols["lng"].array[slots]
        self.all.upsert(slots[listed], lat[listed], lng[listed])
        self.all.remove(slots[~listed])
        member = {}
        for change, slot, is_listed in zip(stores, slots, listed):
            for cat in change.categories if is_listed else ():
                member.setdefault(cat, []).append(slot)
        for cat in member.keys() | self.by_category.keys():
            inside = np.isin(slots, member.get(cat, []))
            index = self.by_category.get(cat)
            if index is None:
                index = self.by_category[cat] = GeoIndex()
            index.upsert(slots[inside], lat[inside], lng[inside])
            index.remove(slots[~inside])

    # --- answering -----------------------------------------------------------------------------

    def search(self, lat: float, lng: float, radius_m: float, *, category_ids: list[int] | None,
               open_only: bool, limit: int, now: datetime | None = None) -> NearbyResult:
        """Rank listed stores within `radius_m` of the WGS-84 point (see geo.ranking)."""
        now = now or utcnow()
        indexes = [self.all] if category_ids is None else [self.by_category[c] for c in category_ids
                                                           if c in self.by_category]
        promoted = self._running_promotions(indexes, lat, lng, radius_m, now)
        # A dense district holds far more stores in the radius than can make the results: rank a
        # smaller circle first and widen it until no store further out could still get in.
        total = sum(ix.count_within(lat, lng, radius_m) for ix in indexes)
        reach = radius_m if total <= _FULL_SCAN else max(radius_m * math.sqrt(_FIRST_SCAN / total), 50.0)
        while True:
            slots, dist, open_now, scores = self._ranked(indexes, lat, lng, reach, promoted, open_only, now)
            if reach >= radius_m or self._settled(scores.score, limit, reach):
                break
            reach = min(radius_m, reach * 2)
        ids = self.cols["id"].array[slots]
        organic = ranking.organic_order(scores.score, dist, ids, limit)
        lifted = np.flatnonzero(np.isin(slots, promoted[0]))
        lifted = lifted[np.lexsort((ids[lifted], dist[lifted], -scores.score[lifted]))]
        hits = [Hit(int(ids[i]), float(dist[i]), bool(open_now[i]), float(scores.score[i]), scores.parts(i), is_lifted)
                for i, is_lifted in ranking.place_promotions(organic.tolist(), lifted.tolist(), limit)]
        return NearbyResult(hits, self.prior)

    def _ranked(self, indexes: list[GeoIndex], lat: float, lng: float, reach: float,
                promoted: tuple[np.ndarray, np.ndarray], open_only: bool, now: datetime):
        """Candidates within `reach` plus the promoted ones of the whole radius, scored."""
        found = [ix.query_radius(lat, lng, reach) for ix in indexes] + [promoted]
        slots, first = np.unique(np.concatenate([f[0] for f in found]), return_index=True)
        dist = np.concatenate([f[1] for f in found])[first]  # a store in two categories of a group: once
        col = {name: g.array for name, g in self.cols.items()}
        open_now = self.hours.open_at(col["pattern"][slots], col["tz"][slots], self.tz_names, now)
        open_now &= col["status"][slots] == OPEN
        if open_only:
            slots, dist, open_now = slots[open_now], dist[open_now], open_now[open_now]
        scores = ranking.score(dist, col["rating_avg"][slots], col["rating_count"][slots], col["popularity"][slots],
                               open_now, self.prior)
        return slots, dist, open_now, scores

    @staticmethod
    def _settled(score: np.ndarray, limit: int, reach: float) -> bool:
        """Whether the best `limit` found within `reach` beat anything beyond it could score."""
        if len(score) < limit:
            return False
        kth_best = -np.partition(-score, limit - 1)[limit - 1]
        return kth_best > ranking.best_possible(reach) + 1e-6  # scores are rounded to 1e-6

    def _running_promotions(self, indexes: list[GeoIndex], lat: float, lng: float, radius_m: float,
                            now: datetime) -> tuple[np.ndarray, np.ndarray]:
        """(slots, distances) of stores in the searched indexes and radius with a promotion running now."""
        slots, starts, ends = self.promotion_windows
        t = now.timestamp()
        slots = np.unique(slots[(starts <= t) & (t < ends)])
        slots = np.array([s for s in slots.tolist() if any(s in ix for ix in indexes)], dtype=np.int64)
        dist = haversine_m_arrays(lat, lng, self.cols["lat"].array[slots], self.cols["lng"].array[slots])
        near = dist <= radius_m
        return slots[near], dist[near]


def _raw_chunks(session: Session, stmt) -> Iterator[list[tuple]]:
    """Plain driver tuples for a parameterless select, streamed: a million SQLAlchemy rows would
    cost more than reading them (on PostgreSQL a named cursor keeps them on the server meanwhile)."""
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    driver = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    cursor = driver.cursor(name="daodian_nearby_load") if postgres else driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_CHUNK):
            yield rows
    finally:
        cursor.close()


_build_lock = threading.Lock()


def index_for(state: Any, session: Session) -> StoreIndex:
    """The app's index, (re)built from `session` if missing or built from another session factory."""
    factory = state.session_factory
    index = getattr(state, "nearby", None)
    if index is None or index.source is not factory:
        with _build_lock:
            index = getattr(state, "nearby", None)
            if index is None or index.source is not factory:
                index = state.nearby = StoreIndex.build(session, source=factory)
    return index


def warm_up(state: Any) -> None:
    """Build the index at start-up; on failure (e.g. an unmigrated database) the first request retries."""
    factory: sessionmaker[Session] = state.session_factory
    try:
        with unit_of_work(factory, read_only=True) as session:
            state.nearby = StoreIndex.build(session, source=factory)
        log.info("nearby index: %d stores", len(state.nearby))
    except SQLAlchemyError:
        log.exception("nearby index not built at start-up; the first nearby request will retry")
