"""The nearby index gives exactly the answers of scoring every store by the documented formula
(tests/nearby/reference.py), however much of the city it skips: by score and by distance, with and
without a category, open now or not, promotions included, and after stores change."""

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import delete, insert, select, update

from daodian.kit.clock import utcnow
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreCategory, StorePromotion
from daodian.nearby import index as nearby
from daodian.nearby.index import SortBy, StoreIndex
from daodian.taxonomy.models import ServiceCategory
from tests.factories import make_user
from tests.nearby.city import CENTRE, HOURS, MOMENTS, add_stores, build_city
from tests.nearby.reference import Everyone, answer


@pytest.fixture
def city(db):
    return build_city(db)


def queries(city, seed: int, n: int):
    rng = np.random.default_rng(seed)
    groups = list(city.groups.values())
    for _ in range(n):
        lat, lng = city.places[int(rng.integers(len(city.places)))]
        if rng.random() < 0.8:  # near a store, mostly: where the stores are dense
            lat, lng = lat + rng.normal(0, 0.002), lng + rng.normal(0, 0.002)
        else:
            lat, lng = CENTRE[0] + rng.normal(0, 0.3), CENTRE[1] + rng.normal(0, 0.3)
        lat = float(np.clip(lat, -90, 90))
        lng = float((lng + 180) % 360 - 180)
        kind = rng.random()
        categories = None if kind < 0.4 else [int(rng.choice(city.leaves))] if kind < 0.8 else groups[int(rng.integers(len(groups)))]
        yield {"lat": lat, "lng": lng, "radius_m": float(rng.choice([30, 300, 1000, 3000, 3000, 20_000, 50_000])),
               "category_ids": categories, "open_only": bool(rng.random() < 0.3),
               "limit": int(rng.choice([1, 5, 20, 20, 50])), "now": MOMENTS[int(rng.integers(len(MOMENTS)))],
               "sort": SortBy.DISTANCE if rng.random() < 0.25 else SortBy.SCORE}


def assert_same_answers(index: StoreIndex, db, city, seed: int, n: int = 300) -> None:
    everyone = Everyone.read(db)
    assert index.prior == everyone.prior
    for params in queries(city, seed, n):
        expected = everyone.search(**params)
        assert answer(index.search(**params)) == expected, params


def test_answers_are_those_of_scoring_every_store(db, city):
    assert_same_answers(StoreIndex.build(db), db, city, seed=1)


def test_answers_stay_right_as_stores_change(db, city, monkeypatch):
    index = StoreIndex.build(db)
    # Changed stores are searched beside the postings, which were built at the old prior mean rating.
    monkeypatch.setattr(nearby, "_PRIOR_DRIFT", 10.0)
    rng = np.random.default_rng(3)
    ids = list(db.scalars(select(Store.id)))
    picked = iter(rng.permutation(ids).tolist())

    def stamp():
        return utcnow() + timedelta(milliseconds=int(rng.integers(1, 1000)))

    for store_id in [next(picked) for _ in range(60)]:  # moved, some into the busiest district
        lat, lng = CENTRE[0] + rng.normal(0, 0.003), CENTRE[1] + rng.normal(0, 0.003)
        db.execute(update(Store).where(Store.id == store_id).values(lat=lat, lng=lng, updated_at=stamp()))
    for store_id in [next(picked) for _ in range(60)]:  # re-rated: the prior mean moves too
        db.execute(update(Store).where(Store.id == store_id).values(
            rating_avg=float(rng.choice([1.0, 5.0])), rating_count=int(rng.integers(0, 5000)),
            popularity=int(rng.integers(0, 20_000)), updated_at=stamp()))
    for store_id in [next(picked) for _ in range(40)]:  # paused, reopened, closed for good, new hours
        db.execute(update(Store).where(Store.id == store_id).values(
            status=str(rng.choice(["open", "paused", "closed"])), hours=HOURS[int(rng.integers(len(HOURS)))],
            updated_at=stamp()))
    for store_id in [next(picked) for _ in range(30)]:  # other services
        db.execute(delete(StoreCategory).where(StoreCategory.store_id == store_id))
        db.execute(insert(StoreCategory), [{"store_id": store_id, "category_id": int(c)}
                                           for c in rng.choice(city.leaves, 2, replace=False)])
        db.execute(update(Store).where(Store.id == store_id).values(updated_at=stamp()))
    merchants = list(db.scalars(select(Merchant).order_by(Merchant.id)))
    for merchant in merchants[:3]:
        merchant.status = MerchantStatus.SUSPENDED if merchant.status == MerchantStatus.ACTIVE else MerchantStatus.ACTIVE
        merchant.updated_at = stamp()
    operator = make_user(db, operator=True)
    for store_id in [next(picked) for _ in range(10)]:  # promoted now (creating one stamps the store)
        db.execute(insert(StorePromotion), [{"store_id": store_id, "starts_at": MOMENTS[0] - timedelta(days=1),
                                             "ends_at": MOMENTS[-1] + timedelta(days=1), "note": "",
                                             "created_by": operator.id, "created_at": utcnow()}])
        db.execute(update(Store).where(Store.id == store_id).values(updated_at=stamp()))
    db.flush()
    added = add_stores(db, rng, 150, [m.id for m in merchants], city.leaves, _parents(db))
    city.places += [tuple(p) for p in db.execute(select(Store.lat, Store.lng).where(Store.id.in_(added))).all()]
    db.flush()

    index.refresh(db, force=True)
    assert len(index.delta) > 100 and index.prior != index.postings.prior
    assert_same_answers(index, db, city, seed=4)

    monkeypatch.setattr(nearby, "_REBUILD_MIN", 10)
    db.execute(update(Store).where(Store.id == next(picked)).values(rating_avg=4.5, updated_at=stamp()))
    db.flush()
    index.refresh(db, force=True)
    assert len(index.delta) == 0  # new postings, holding everything
    assert_same_answers(index, db, city, seed=5)


def _parents(db) -> dict[int, int]:
    return dict(db.execute(select(ServiceCategory.id, ServiceCategory.parent_id).where(ServiceCategory.level == 2)).all())
