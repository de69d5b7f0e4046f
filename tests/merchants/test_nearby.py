"""GET /api/v1/stores/nearby through the app: datums, filters, ranking, listing rules and freshness."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from daodian.geo.datum import Datum, from_wgs84
from daodian.geo.distance import haversine_m
from daodian.merchants import stores as store_rules
from daodian.merchants.models import MerchantStatus, StoreStatus
from daodian.merchants.schemas import HoursInterval, Location, OpeningHours, StoreUpdate
from daodian.nearby import index as nearby
from daodian.nearby import process as nearby_process
from daodian.taxonomy.models import ServiceCategory
from daodian.taxonomy.service import subtree_ids
from tests.factories import auth, make_merchant, make_store, make_user
from tests.nearby.reference import Everyone

ORIGIN = (30.2741, 120.1551)  # WGS-84, Hangzhou
M_PER_DEG_LAT = 111_195.0
URL = "/api/v1/stores/nearby"


def north(metres: float, lng_offset_m: float = 0.0) -> tuple[float, float]:
    return ORIGIN[0] + metres / M_PER_DEG_LAT, ORIGIN[1] + lng_offset_m / (M_PER_DEG_LAT * 0.8638)


@pytest.fixture
def http(client, app):
    """The client, with the nearby index polling the database on every request."""
    nearby_process.index_for(app.state, None).freshness.interval_s = 0
    return client


@pytest.fixture
def merchant(db):
    return make_merchant(db, make_user(db))


def place(db, merchant, metres: float, *, name: str = "店", east: float = 0.0, **kwargs):
    lat, lng = north(metres, east)
    return make_store(db, merchant, name=name, lat=lat, lng=lng, datum="wgs84", **kwargs)


def search(http, **params):
    query = {"lat": ORIGIN[0], "lng": ORIGIN[1], "datum": "wgs84", **params}
    response = http.get(URL, params=query)
    assert response.status_code == 200, response.text
    return response.json()


def ids(body) -> list[int]:
    return [item["store"]["id"] for item in body["items"]]


def test_same_point_in_any_datum_gives_the_same_distances(http, db, merchant):
    near, far = place(db, merchant, 400, east=300), place(db, merchant, 2200)
    wgs = search(http)
    assert {i["store"]["id"]: i["distance_m"] for i in wgs["items"]} == {
        near.id: round(haversine_m(*ORIGIN, near.lat, near.lng)), far.id: round(haversine_m(*ORIGIN, far.lat, far.lng))}
    for datum in (Datum.GCJ02, Datum.BD09):
        lat, lng = from_wgs84(*ORIGIN, datum)
        body = search(http, lat=lat, lng=lng, datum=datum.value)
        assert body["datum"] == datum.value
        assert body["origin"]["datum"] == "wgs84"
        assert body["origin"]["lat"] == pytest.approx(ORIGIN[0], abs=1e-7)
        assert [(i["store"]["id"], i["distance_m"]) for i in body["items"]] == [
            (i["store"]["id"], i["distance_m"]) for i in wgs["items"]]
    # Taking a GCJ-02 point for WGS-84 is off by hundreds of metres: the datum matters.
    lat, lng = from_wgs84(*ORIGIN, Datum.GCJ02)
    wrong = {i["store"]["id"]: i["distance_m"] for i in search(http, lat=lat, lng=lng, datum="wgs84")["items"]}
    assert abs(wrong[near.id] - round(haversine_m(*ORIGIN, near.lat, near.lng))) > 100


def test_items_carry_the_store_view_and_explain_their_score(http, db, merchant):
    store = place(db, merchant, 300)
    body = search(http)
    item = body["items"][0]
    detail = http.get(f"/api/v1/stores/{store.id}").json()
    assert item["store"] == {k: v for k, v in detail.items() if k in item["store"]}
    assert set(item["store"]) >= {"id", "name", "location", "location_gcj02", "hours", "rating_avg"}
    assert item["promoted"] is False
    assert item["score"] == pytest.approx(sum(p["points"] for p in item["score_parts"].values()), abs=1e-9)
    assert item["score_parts"]["distance"]["value"] == pytest.approx(item["distance_m"], abs=0.5)
    assert body["radius_m"] == 3000
    assert body["ranking"]["weights"] == {"distance": 0.45, "rating": 0.3, "popularity": 0.15, "open_now": 0.1}


def test_radius_and_limit(http, db, merchant):
    a, b, c = place(db, merchant, 500), place(db, merchant, 2500), place(db, merchant, 4000)
    assert set(ids(search(http))) == {a.id, b.id}
    assert ids(search(http, radius_m=1000)) == [a.id]
    assert set(ids(search(http, radius_m=50_000))) == {a.id, b.id, c.id}
    limited = search(http, radius_m=50_000, limit=2)
    assert ids(limited) == ids(search(http, radius_m=50_000))[:2]


def test_category_filter_leaf_and_group(http, db, merchant):
    oil = place(db, merchant, 100, category="auto_service.oil_change")
    wash = place(db, merchant, 200, category="auto_service.car_wash")
    salon = place(db, merchant, 300, category="beauty_service.salon")
    both = place(db, merchant, 400, category="auto_service.tyre_fitting")
    store_rules.update_store(db, both, StoreUpdate(categories=["auto_service.oil_change"]))
    assert set(ids(search(http, service_category="auto_service.oil_change"))) == {oil.id, both.id}
    group = ids(search(http, service_category="auto_service"))
    assert sorted(group) == sorted([oil.id, wash.id, both.id])  # each store once, though in two categories
    assert ids(search(http, service_category="beauty_service.salon")) == [salon.id]
    assert ids(search(http, service_category="wedding_service.photo")) == []
    missing = http.get(URL, params={"lat": 30, "lng": 120, "datum": "wgs84", "service_category": "auto_service.nope"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_category"


def test_bayesian_rating_one_review_does_not_beat_three_hundred(http, db, merchant):
    lucky, steady = place(db, merchant, 600, name="lucky"), place(db, merchant, 600, east=1, name="steady")
    for store, avg, count in ((lucky, 5.0, 1), (steady, 4.8, 300)):
        store.rating_avg, store.rating_count = avg, count
    db.flush()
    body = search(http)
    assert ids(body) == [steady.id, lucky.id]
    parts = [i["score_parts"]["rating"] for i in body["items"]]
    assert parts[0]["value"] > parts[1]["value"]


def at_local(tz: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def test_open_now_past_midnight_in_the_store_time_zone(http, db, merchant, monkeypatch):
    late = OpeningHours(intervals=[HoursInterval(weekday=5, opens="18:00", closes="02:00", next_day=True),
                                   HoursInterval(weekday=7, opens="22:00", closes="03:00", next_day=True)])
    store = place(db, merchant, 100, hours=late)
    store.timezone = "Asia/Tokyo"
    db.flush()

    def open_at(moment: datetime, **params) -> list[bool]:
        monkeypatch.setattr(nearby, "utcnow", lambda: moment)
        monkeypatch.setattr(store_rules, "utcnow", lambda: moment)
        body = search(http, **params)
        assert all(i["open_now"] == i["store"]["open_now"] for i in body["items"])
        return [i["open_now"] for i in body["items"]]

    tokyo = "Asia/Tokyo"
    assert open_at(at_local(tokyo, 2025, 5, 2, 19, 0)) == [True]  # Friday 19:00
    assert open_at(at_local(tokyo, 2025, 5, 3, 1, 30)) == [True]  # Saturday 01:30, Friday's late hours
    assert open_at(at_local(tokyo, 2025, 5, 3, 2, 0)) == [False]  # closed at 02:00 sharp
    assert open_at(at_local(tokyo, 2025, 5, 2, 17, 59)) == [False]
    assert open_at(at_local(tokyo, 2025, 5, 5, 2, 59)) == [True]  # Monday 02:59: Sunday night into Monday
    # 17:30 in Shanghai is 18:30 in Tokyo: open, though the store would not be open yet on Shanghai time.
    assert open_at(at_local("Asia/Shanghai", 2025, 5, 2, 17, 30)) == [True]
    assert open_at(at_local(tokyo, 2025, 5, 3, 1, 30), open_now="true") == [True]
    assert open_at(at_local(tokyo, 2025, 5, 3, 3, 0), open_now="true") == []
    # A closed date closes the interval that starts on it, also its part after midnight.
    monkeypatch.undo()  # the change must be stamped with the real time to be seen
    store_rules.set_hours(db, store, OpeningHours(intervals=late.intervals, closed_dates=["2025-05-02"]))
    assert open_at(at_local(tokyo, 2025, 5, 3, 1, 30)) == [False]
    assert open_at(at_local(tokyo, 2025, 5, 9, 23, 0)) == [True]


def test_listing_rules_closed_paused_and_merchant_status(http, db, merchant):
    open_, paused, closed = place(db, merchant, 100), place(db, merchant, 200), place(db, merchant, 300)
    paused.status = StoreStatus.PAUSED
    store_rules.close_store(db, closed)
    other = make_merchant(db, make_user(db), status=MerchantStatus.PENDING)
    pending = place(db, other, 150)
    db.flush()
    body = search(http)
    assert ids(body) == [open_.id, paused.id]
    assert [i["open_now"] for i in body["items"]] == [store_rules.is_open(open_), False]
    assert ids(search(http, open_now="true")) in ([open_.id], [])
    merchant.status = MerchantStatus.SUSPENDED
    other.status = MerchantStatus.ACTIVE
    db.flush()
    assert ids(search(http)) == [pending.id]


def test_changes_show_up_without_restart(http, db, merchant):
    assert search(http)["items"] == []
    store = place(db, merchant, 1000)
    assert ids(search(http)) == [store.id]
    store_rules.update_store(db, store, StoreUpdate(location=Location(lat=ORIGIN[0] + 0.5, lng=ORIGIN[1],
                                                                       datum="wgs84")))
    assert ids(search(http)) == []
    assert ids(search(http, lat=ORIGIN[0] + 0.5)) == [store.id]
    store.popularity = 999
    db.flush()
    assert search(http, lat=ORIGIN[0] + 0.5)["items"][0]["score_parts"]["popularity"]["value"] == 999
    store_rules.close_store(db, store)
    assert ids(search(http, lat=ORIGIN[0] + 0.5)) == []


@pytest.mark.parametrize("params", [
    {"lat": 91}, {"lat": -90.5}, {"lng": 181}, {"lng": "east"}, {"lat": "nan"}, {"lng": "inf"},
    {"datum": "mars"}, {"datum": None}, {"radius_m": 0}, {"radius_m": 50_001}, {"limit": 0}, {"limit": 51},
    {"open_now": "maybe"}, {"service_category": "Auto Service"}, {"service_category": "x" * 65},
])
def test_invalid_queries_are_422(http, params):
    query = {"lat": 30.0, "lng": 120.0, "datum": "wgs84", **params}
    response = http.get(URL, params={k: v for k, v in query.items() if v is not None})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


# --- promotions ---------------------------------------------------------------------------------


def promote(http, db, operator, store, *, starts=None, ends=None, expect=201):
    now = datetime.now(UTC)
    body = {"store_id": store.id, "starts_at": (starts or now - timedelta(hours=1)).isoformat(),
            "ends_at": (ends or now + timedelta(days=7)).isoformat(), "note": "七天推广"}
    response = http.post("/api/v1/admin/promotions", json=body, headers=auth(db, operator))
    assert response.status_code == expect, response.text
    return response.json()


def test_promotions_are_labelled_and_capped(http, db, merchant):
    operator = make_user(db, operator=True)
    stores = [place(db, merchant, 100 * (i + 1), name=f"店{i}") for i in range(16)]
    outside = place(db, merchant, 3500)
    wrong_category = place(db, merchant, 1450, category="auto_service.car_wash")
    later = place(db, merchant, 1700)
    for store in [*stores[12:], outside, wrong_category]:
        promote(http, db, operator, store)
    now = datetime.now(UTC)
    promote(http, db, operator, later, starts=now + timedelta(days=1), ends=now + timedelta(days=2))

    body = search(http, service_category="auto_service.oil_change", limit=14)
    labels = [i["promoted"] for i in body["items"]]
    assert [p for p, flag in enumerate(labels) if flag] == [2, 7, 12]
    lifted = [i["store"]["id"] for i in body["items"] if i["promoted"]]
    assert lifted == [s.id for s in stores[12:15]]  # the best-scoring promoted stores first
    assert {outside.id, wrong_category.id, later.id}.isdisjoint(ids(body))
    # A lifted result keeps its organic score: the label, not the score, shows the payment.
    assert body["items"][2]["score"] < body["items"][3]["score"]
    assert ids(search(http, radius_m=120)) == [stores[0].id]  # the cap never adds results: filters come first

    listed = http.get("/api/v1/admin/promotions", headers=auth(db, operator)).json()["items"]
    assert len(listed) == 7 and {p["status"] for p in listed} == {"running", "scheduled"}
    first = next(p for p in listed if p["store_id"] == stores[12].id)
    assert http.delete(f"/api/v1/admin/promotions/{first['id']}", headers=auth(db, operator)).status_code == 204
    assert http.delete(f"/api/v1/admin/promotions/{first['id']}", headers=auth(db, operator)).status_code == 204
    body = search(http, service_category="auto_service.oil_change", limit=14)
    assert [i["store"]["id"] for i in body["items"] if i["promoted"]] == [s.id for s in stores[13:16]]
    everything = http.get("/api/v1/admin/promotions", params={"include_inactive": "true", "store_id": stores[12].id},
                         headers=auth(db, operator)).json()["items"]
    assert [p["status"] for p in everything] == ["cancelled"]


def test_promotion_api_is_for_operators_and_validates(http, db, merchant):
    store = place(db, merchant, 100)
    owner_headers = auth(db, make_user(db))
    now = datetime.now(UTC)
    body = {"store_id": store.id, "starts_at": now.isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()}
    assert http.post("/api/v1/admin/promotions", json=body).status_code == 401
    assert http.post("/api/v1/admin/promotions", json=body, headers=owner_headers).status_code == 403
    assert http.get("/api/v1/admin/promotions", headers=owner_headers).status_code == 403
    assert http.delete("/api/v1/admin/promotions/1", headers=owner_headers).status_code == 403
    op = auth(db, make_user(db, operator=True))
    for bad, code in [
        ({"ends_at": now.isoformat(), "starts_at": (now + timedelta(hours=1)).isoformat()}, 422),
        ({"ends_at": now.isoformat(), "starts_at": now.isoformat()}, 422),
        ({"starts_at": "2025-01-01T00:00:00"}, 422),  # no time zone
        ({"ends_at": (now + timedelta(days=400)).isoformat()}, 422),
        ({"starts_at": (now - timedelta(days=3)).isoformat(), "ends_at": (now - timedelta(days=2)).isoformat()}, 422),
        ({"store_id": 987654}, 404),
        ({"store_id": 0}, 422),
        ({"note": "x" * 256}, 422),
    ]:
        response = http.post("/api/v1/admin/promotions", json={**body, **bad}, headers=op)
        assert response.status_code == code, (bad, response.text)
    assert http.delete("/api/v1/admin/promotions/987654", headers=op).json()["error"]["code"] == "promotion_not_found"
    created = http.post("/api/v1/admin/promotions", json={**body, "starts_at": "2030-01-01T08:00:00+08:00",
                                                          "ends_at": "2030-01-02T08:00:00+08:00"}, headers=op).json()
    assert created["starts_at"].startswith("2030-01-01T00:00:00") and created["status"] == "scheduled"


def test_a_dense_district_gives_the_exhaustive_answer(http, db, merchant, monkeypatch):
    """Dense districts are searched with bounds that skip most stores (nearby.kernel); the answer must be
    that of scoring every store (tests/nearby/reference.py), promotions included."""
    operator = make_user(db, operator=True)
    rng = np.random.default_rng(9)
    made = []
    for i in range(80):
        store = place(db, merchant, float(rng.uniform(0, 2900)), east=float(rng.uniform(-1500, 1500)), name=f"密{i}")
        store.rating_avg, store.rating_count = float(rng.uniform(1, 5)), int(rng.integers(0, 3000))
        store.popularity = int(rng.integers(0, 5000))
        made.append(store)
    db.flush()
    for store in made[::9]:
        promote(http, db, operator, store)
    now = datetime.now(UTC)
    monkeypatch.setattr(nearby, "utcnow", lambda: now)
    everyone = Everyone.read(db)
    group = subtree_ids(db, ServiceCategory, "auto_service")
    for params, cats, open_only, limit in (({}, None, False, 20), ({"open_now": "true"}, None, True, 20),
                                           ({"limit": 50}, None, False, 50),
                                           ({"service_category": "auto_service"}, group, False, 20)):
        expected = everyone.search(*ORIGIN, 3000, category_ids=cats, open_only=open_only, limit=limit, now=now)
        assert [(i["store"]["id"], i["score"], i["promoted"]) for i in search(http, **params)["items"]] == [
            (store_id, score, promoted) for store_id, _, _, score, _, promoted in expected]
