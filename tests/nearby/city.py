"""A seeded, awkward city for checking the nearby index against scoring every store.

Dense districts (so searches skip most stores), sparse outskirts, stores sharing one address (ties in
distance), stores across the 180th meridian and around the North Pole, every kind of opening hours
(past midnight, round the clock, split, never), closed dates around the moments asked about, five time
zones, paused and closed stores, merchants that are not active, and a few promotions.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from daodian.kit.clock import utcnow
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreCategory, StorePromotion
from daodian.taxonomy.models import ServiceCategory
from tests.factories import make_user

CENTRE = (30.2741, 120.1551)
ZONES = ["Asia/Shanghai", "Asia/Tokyo", "America/New_York", "Australia/Lord_Howe", "Europe/London"]
HOURS = [
    [[d, 540, 1260] for d in range(1, 8)],  # 09:00-21:00
    [[d, 0, 1440] for d in range(1, 8)],  # round the clock
    [[d, 1080, 1560] for d in (5, 6)] + [[7, 1320, 1620]],  # late nights, past midnight; Sunday into Monday
    [[d, 660, 840] for d in range(1, 6)] + [[d, 1020, 1320] for d in range(1, 6)],  # split shifts
    [],  # never
]
# Moments to ask at: the coming days (promotions that ended are no longer read), at hours that are
# morning, evening and midnight somewhere among the zones.
_MONDAY = (datetime.now(UTC) + timedelta(days=7 - datetime.now(UTC).weekday())).replace(hour=0, minute=0, second=0,
                                                                                         microsecond=0)
MOMENTS = [_MONDAY + timedelta(days=4, hours=11, minutes=30), _MONDAY + timedelta(days=5, hours=17, minutes=45),
           _MONDAY + timedelta(days=6, hours=23, minutes=59)]


@dataclass
class City:
    leaves: list[int]
    groups: dict[int, list[int]]  # level-1 category id -> its leaves
    places: list[tuple[float, float]]  # where the stores are, to ask around


def _points(rng: np.random.Generator, n: int) -> np.ndarray:
    kinds = rng.choice(5, n, p=[0.55, 0.25, 0.12, 0.04, 0.04])
    lat = CENTRE[0] + np.where(kinds == 0, rng.normal(0, 0.004, n), rng.normal(0, 0.05, n))
    lng = CENTRE[1] + np.where(kinds == 0, rng.normal(0, 0.005, n), rng.normal(0, 0.06, n))
    spread = kinds == 2  # the outskirts, up to ~60 km out
    lat[spread], lng[spread] = CENTRE[0] + rng.uniform(-0.5, 0.5, spread.sum()), CENTRE[1] + rng.uniform(-0.6, 0.6, spread.sum())
    dateline = kinds == 3  # Fiji, on both sides of +-180 deg
    lat[dateline] = -16.8 + rng.normal(0, 0.01, dateline.sum())
    lng[dateline] = ((180.0 + rng.normal(0, 0.01, dateline.sum())) + 180.0) % 360.0 - 180.0
    pole = kinds == 4
    lat[pole], lng[pole] = rng.uniform(89.97, 90.0, pole.sum()), rng.uniform(-180, 180, pole.sum())
    twins = rng.random(n) < 0.05  # at the address of the store before
    lat[1:][twins[1:]], lng[1:][twins[1:]] = lat[:-1][twins[1:]], lng[:-1][twins[1:]]
    return np.column_stack((lat, lng))


def store_rows(rng: np.random.Generator, n: int, merchant_ids: list[int], leaves: list[int]) -> list[dict]:
    points = _points(rng, n)
    now = utcnow()
    rows = []
    for i in range(n):
        closed = [(m + timedelta(days=int(d))).date().isoformat() for m in MOMENTS for d in rng.integers(-1, 2, 1)
                  if rng.random() < 0.15]
        status = rng.choice(["open", "paused", "closed"], p=[0.85, 0.1, 0.05])
        rated = rng.random() < 0.8
        rows.append({
            "merchant_id": int(rng.choice(merchant_ids)), "name": f"店{i}", "address": "杭州", "lat": float(points[i, 0]),
            "lng": float(points[i, 1]), "input_lat": float(points[i, 0]), "input_lng": float(points[i, 1]),
            "input_datum": "wgs84", "timezone": str(rng.choice(ZONES)), "hours": HOURS[int(rng.integers(len(HOURS)))],
            "closed_dates": sorted(set(closed)), "status": str(status), "primary_category_id": int(rng.choice(leaves)),
            "rating_avg": float(np.round(rng.uniform(1, 5), 1)) if rated else 0.0,
            "rating_count": int(rng.integers(1, 3000)) if rated else 0, "popularity": int(rng.integers(0, 5000)),
            "created_at": now, "updated_at": now})
    return rows


def build_city(db: Session, *, stores: int = 3000, seed: int = 7) -> City:
    rng = np.random.default_rng(seed)
    owner = make_user(db)
    now = utcnow()
    statuses = [MerchantStatus.ACTIVE] * 8 + [MerchantStatus.PENDING, MerchantStatus.SUSPENDED]
    db.execute(insert(Merchant), [{"name": f"商户{i}", "description": "", "status": statuses[i % 10],
                                   "created_at": now, "updated_at": now} for i in range(60)])
    merchant_ids = list(db.scalars(select(Merchant.id)))
    leaves = list(db.scalars(select(ServiceCategory.id).where(ServiceCategory.level == 2)))
    parents = dict(db.execute(select(ServiceCategory.id, ServiceCategory.parent_id).where(ServiceCategory.level == 2)).all())
    add_stores(db, rng, stores, merchant_ids, leaves, parents)
    ids = list(db.scalars(select(Store.id)))
    promoted = rng.choice(ids, 40, replace=False).tolist()
    db.execute(insert(StorePromotion), [
        {"store_id": s, "starts_at": MOMENTS[0] - timedelta(days=int(rng.integers(0, 3))),
         "ends_at": MOMENTS[-1] + timedelta(days=int(rng.integers(-2, 30)) + 1), "note": "", "created_by": owner.id,
         "created_at": now, "cancelled_at": now if i % 7 == 0 else None} for i, s in enumerate(promoted)])
    db.flush()
    groups: dict[int, list[int]] = {}
    for leaf, parent in parents.items():
        groups.setdefault(parent, []).append(leaf)
    places = [tuple(p) for p in db.execute(select(Store.lat, Store.lng)).all()]
    return City(leaves, groups, places)


def add_stores(db: Session, rng: np.random.Generator, n: int, merchant_ids: list[int], leaves: list[int],
               parents: dict[int, int]) -> list[int]:
    before = set(db.scalars(select(Store.id)))
    db.execute(insert(Store), store_rows(rng, n, merchant_ids, leaves))
    new = db.execute(select(Store.id, Store.primary_category_id).where(Store.id.not_in(before) if before else True)).all()
    pairs = [{"store_id": s, "category_id": c} for s, c in new]
    siblings: dict[int, list[int]] = {}
    for leaf, parent in parents.items():
        siblings.setdefault(parent, []).append(leaf)
    pairs += [{"store_id": s, "category_id": other} for s, c in new if rng.random() < 0.3
              for other in [int(rng.choice(siblings[parents[c]]))] if other != c]
    db.execute(insert(StoreCategory), pairs)
    return [s for s, _ in new]
