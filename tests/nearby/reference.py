"""The nearby ranking worked out the slow way: every store of the database scored by the documented
formula (docs/ranking.md, geo.ranking), for comparing with the index, which skips most of them."""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.geo import ranking
from daodian.geo.distance import haversine_m_arrays
from daodian.merchants import hours
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreCategory, StorePromotion, StoreStatus


@dataclass
class Everyone:
    """Every listed store as the database has it, read once per comparison round."""

    ids: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    rows: list
    categories: list[set[int]]
    prior: float
    promotions: list[tuple[int, datetime, datetime]]
    _open: dict

    @classmethod
    def read(cls, db: Session) -> "Everyone":
        active = set(db.scalars(select(Merchant.id).where(Merchant.status == MerchantStatus.ACTIVE)))
        rows = [r for r in db.execute(select(Store).order_by(Store.id)).scalars()
                if r.status != StoreStatus.CLOSED and r.merchant_id in active]
        cats: dict[int, set[int]] = {}
        for store_id, cat in db.execute(select(StoreCategory.store_id, StoreCategory.category_id)):
            cats.setdefault(store_id, set()).add(cat)
        promotions = db.execute(select(StorePromotion.store_id, StorePromotion.starts_at, StorePromotion.ends_at)
                                .where(StorePromotion.cancelled_at.is_(None))).all()
        return cls(np.array([r.id for r in rows], dtype=np.int64),
                   np.array([r.lat for r in rows]), np.array([r.lng for r in rows]), rows,
                   [cats.get(r.id, set()) for r in rows],
                   ranking.prior_mean([r.rating_avg for r in rows], [r.rating_count for r in rows]),
                   [tuple(p) for p in promotions], {})

    def open_at(self, now: datetime) -> np.ndarray:
        if now not in self._open:
            self._open[now] = np.array([r.status == StoreStatus.OPEN and hours.is_open_at(
                [tuple(i) for i in r.hours], r.closed_dates, r.timezone, now) for r in self.rows], dtype=bool)
        return self._open[now]

    def search(self, lat: float, lng: float, radius_m: float, *, category_ids: list[int] | None, open_only: bool,
               limit: int, now: datetime, sort: str = "score") -> list[tuple]:
        """(store id, distance, open now, score, score parts, promoted) of each result, as the index gives them."""
        distance = haversine_m_arrays(lat, lng, self.lat, self.lng)
        is_open = self.open_at(now)
        wanted = set(category_ids) if category_ids is not None else None
        match = (distance <= radius_m) & (is_open | (not open_only))
        if wanted is not None:
            match &= np.array([not wanted.isdisjoint(c) for c in self.categories], dtype=bool)
        at = np.flatnonzero(match)
        rows = [self.rows[i] for i in at]
        scores = ranking.score(distance[at], [r.rating_avg for r in rows], [r.rating_count for r in rows],
                               [r.popularity for r in rows], is_open[at], self.prior)
        ids, dist = self.ids[at], distance[at]
        if sort == "distance":
            placed = [(int(i), False) for i in np.lexsort((ids, dist))[:limit]]
        else:
            organic = ranking.organic_order(scores.score, dist, ids, limit)
            running = {s for s, start, end in self.promotions if start <= now < end}
            lifted = np.array([k for k, store_id in enumerate(ids.tolist()) if store_id in running], dtype=np.intp)
            lifted = lifted[np.lexsort((ids[lifted], dist[lifted], -scores.score[lifted]))]
            placed = ranking.place_promotions(organic.tolist(), lifted.tolist(), limit)
        return [(int(ids[k]), float(dist[k]), bool(is_open[at][k]), float(scores.score[k]), scores.parts(k), lifted)
                for k, lifted in placed]


def answer(result) -> list[tuple]:
    """The index's result in the same shape."""
    return [(h.store_id, h.distance_m, h.open_now, h.score, h.score_parts, h.promoted) for h in result.hits]
