"""Store views come out as the validated models always made them: `store_reads` (constructed from rows,
not validated again) and `store_views` (JSON-ready dicts) against StoreRead built and checked field by
field the old way, for stores with every kind of hours, closed dates, datums and categories."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from daodian.geo.datum import Datum, from_wgs84
from daodian.merchants import hours as hours_rules
from daodian.merchants import repository, stores
from daodian.merchants.schemas import HoursInterval, LocationRead, OpeningHours, StoreRead, StoreUpdate
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.schemas import CategoryRead
from tests.factories import make_merchant, make_store, make_user


def validated(db, store, now: datetime) -> StoreRead:
    """StoreRead as it was built before views: every part validated."""
    own = repository.category_ids_by_store(db, [store.id])[store.id]
    cats = taxonomy.service_categories_by_ids(db, {store.primary_category_id, *own})
    gcj = from_wgs84(store.lat, store.lng, Datum.GCJ02)
    intervals = [HoursInterval(weekday=wd, opens=hours_rules.hhmm(o),
                               closes="24:00" if c == hours_rules.MINUTES_PER_DAY else hours_rules.hhmm(c),
                               next_day=c > hours_rules.MINUTES_PER_DAY) for wd, o, c in store.hours]
    return StoreRead(
        id=store.id, merchant_id=store.merchant_id, name=store.name, name_en=store.name_en, address=store.address,
        phone=store.phone, timezone=store.timezone, status=store.status,
        location=LocationRead(lat=store.lat, lng=store.lng, datum=Datum.WGS84),
        location_gcj02=LocationRead(lat=gcj[0], lng=gcj[1], datum=Datum.GCJ02),
        input_location=LocationRead(lat=store.input_lat, lng=store.input_lng, datum=store.input_datum),
        primary_category=CategoryRead.model_validate(cats[store.primary_category_id]),
        categories=sorted((CategoryRead.model_validate(cats[c]) for c in own), key=lambda c: c.code),
        hours=OpeningHours(intervals=intervals, closed_dates=[date.fromisoformat(d) for d in store.closed_dates]),
        open_now=stores.is_open(store, now), rating_avg=round(store.rating_avg, 2), rating_count=store.rating_count)


@pytest.fixture
def many(db):
    merchant = make_merchant(db, make_user(db))
    late = OpeningHours(intervals=[HoursInterval(weekday=5, opens="18:00", closes="02:00", next_day=True),
                                   HoursInterval(weekday=7, opens="00:00", closes="24:00")],
                        closed_dates=["2025-05-02", "2030-01-01"])
    made = [
        make_store(db, merchant, name="西湖店"),
        make_store(db, merchant, name="夜店", lat=30.27, lng=120.16, datum="wgs84", hours=late,
                   category="beauty_service.hair"),
        make_store(db, merchant, name="百度店", lat=30.28, lng=120.17, datum="bd09", hours=None,
                   category="auto_service.car_wash"),
        make_store(db, merchant, name="海外店", lat=40.7, lng=-74.0, datum="wgs84", category="leisure.ktv"),
    ]
    stores.update_store(db, made[0], StoreUpdate(categories=["auto_service.tyre_fitting", "auto_service.car_wash"],
                                                 name_en="West Lake", phone="0571-1234567"))
    made[3].timezone = "America/New_York"
    made[3].rating_avg, made[3].rating_count = 4.56789, 12
    db.flush()
    return made


def test_store_reads_and_views_are_the_validated_views(db, many, monkeypatch):
    for moment in (datetime(2025, 5, 2, 12, 0, tzinfo=UTC), datetime(2025, 5, 3, 1, 30, tzinfo=ZoneInfo("Asia/Shanghai"))):
        monkeypatch.setattr(stores, "utcnow", lambda moment=moment: moment)
        expected = [validated(db, s, moment).model_dump(mode="json") for s in many]
        assert [r.model_dump(mode="json") for r in stores.store_reads(db, many)] == expected
        ids = [s.id for s in many]
        # The views are what the schema says (validating them changes nothing), with the same values.
        assert [StoreRead.model_validate(v).model_dump(mode="json") for v in stores.store_views(db, ids)] == expected
        assert [r.model_dump(mode="json") for r in stores.store_reads_by_id(db, ids)] == expected
        # In the order asked; ids that do not exist are left out.
        assert [v["id"] for v in stores.store_views(db, [ids[2], 987654, ids[0]])] == [ids[2], ids[0]]
