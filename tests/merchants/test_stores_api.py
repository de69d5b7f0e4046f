"""Stores: where they are (any datum in, WGS-84 stored), when they open, and who sees them."""

import pytest

from daodian.geo.datum import from_wgs84
from tests.factories import auth, make_merchant, make_store, make_user

WEST_LAKE_WGS84 = (30.2569, 120.1440)  # a GPS fix at West Lake, Hangzhou
ONE_METRE = 1e-5  # degrees, roughly


@pytest.fixture
def owned(db):
    owner = make_user(db)
    return owner, make_merchant(db, owner), auth(db, owner)


def store_body(**changes) -> dict:
    body = {"name": "西湖店", "address": "杭州市西湖区南山路1号", "primary_category": "auto_service.oil_change",
            "location": {"lat": WEST_LAKE_WGS84[0], "lng": WEST_LAKE_WGS84[1], "datum": "wgs84"}}
    return {**body, **changes}


def create(api, owned, **changes):
    _, merchant, headers = owned
    return api.post(f"/api/v1/merchants/{merchant.id}/stores", json=store_body(**changes), headers=headers)


@pytest.mark.parametrize("datum", ["wgs84", "gcj02", "bd09"])
def test_locations_in_any_datum_are_normalised_to_wgs84(api, owned, datum):
    lat, lng = from_wgs84(*WEST_LAKE_WGS84, datum)  # what AMap (gcj02) or Baidu (bd09) shows for that spot
    response = create(api, owned, location={"lat": lat, "lng": lng, "datum": datum})
    assert response.status_code == 201, response.text
    store = response.json()
    assert store["input_location"] == {"lat": lat, "lng": lng, "datum": datum}
    assert store["location"]["datum"] == "wgs84"
    assert abs(store["location"]["lat"] - WEST_LAKE_WGS84[0]) < ONE_METRE / 100
    assert abs(store["location"]["lng"] - WEST_LAKE_WGS84[1]) < ONE_METRE / 100
    gcj = from_wgs84(*WEST_LAKE_WGS84, "gcj02")
    assert abs(store["location_gcj02"]["lat"] - gcj[0]) < ONE_METRE / 100
    if datum != "wgs84":  # the Chinese datums are offset by hundreds of metres
        assert abs(lat - WEST_LAKE_WGS84[0]) + abs(lng - WEST_LAKE_WGS84[1]) > 100 * ONE_METRE


@pytest.mark.parametrize("location", [
    {"lat": 91, "lng": 120, "datum": "wgs84"}, {"lat": -90.5, "lng": 120, "datum": "wgs84"},
    {"lat": 30, "lng": 180.1, "datum": "wgs84"}, {"lat": 30, "lng": 120, "datum": "mars"},
    {"lat": "30", "lng": 120, "datum": "wgs84"}, {"lat": 30, "datum": "wgs84"},
])
def test_impossible_locations_are_refused(api, owned, location):
    response = create(api, owned, location=location)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["loc"][:2] == ["body", "location"]


def interval(weekday=5, opens="18:00", closes="02:00", next_day=True):
    return {"weekday": weekday, "opens": opens, "closes": closes, "next_day": next_day}


def test_hours_past_midnight_are_accepted_with_next_day(api, owned):
    hours = {"intervals": [interval(), interval(weekday=1, opens="09:00", closes="24:00", next_day=False)],
             "closed_dates": ["2026-10-02", "2026-10-01"]}
    store = create(api, owned, hours=hours).json()
    assert store["hours"]["intervals"] == [interval(weekday=1, opens="09:00", closes="24:00", next_day=False),
                                           interval()]
    assert store["hours"]["closed_dates"] == ["2026-10-01", "2026-10-02"]


def test_inverted_hours_are_refused_with_a_hint(api, owned):
    response = create(api, owned, hours={"intervals": [interval(opens="09:00", closes="08:00", next_day=False)]})
    assert response.status_code == 422
    assert "closes (08:00) is not after opens (09:00)" in response.json()["error"]["message"]
    assert "next_day" in response.json()["error"]["message"]


@pytest.mark.parametrize("intervals", [
    [interval(weekday=1, opens="09:00", closes="12:00", next_day=False),
     interval(weekday=1, opens="11:00", closes="14:00", next_day=False)],
    [interval(weekday=5), interval(weekday=6, opens="01:00", closes="03:00", next_day=False)],  # Fri night > Sat
    [interval(weekday=7, opens="22:00", closes="03:00"), interval(weekday=1, opens="02:00", closes="09:00",
                                                                  next_day=False)],  # Sun night > Mon
])
def test_overlapping_intervals_are_refused(api, owned, intervals):
    response = create(api, owned, hours={"intervals": intervals})
    assert response.status_code == 422 and "overlap" in response.json()["error"]["message"]


@pytest.mark.parametrize("bad", [
    interval(opens="25:00"), interval(opens="9:00"), interval(weekday=8), interval(weekday=0),
    interval(opens="24:00", closes="02:00"), interval(opens="18:00", closes="20:00"),  # next_day but not past 0h
    {**interval(), "next_day": "yes"},
])
def test_malformed_intervals_are_refused(api, owned, bad):
    assert create(api, owned, hours={"intervals": [bad]}).status_code == 422


@pytest.mark.parametrize("closed", [["2026-02-30"], [20261001], ["next monday"]])
def test_malformed_closed_dates_are_refused(api, owned, closed):
    assert create(api, owned, hours={"intervals": [], "closed_dates": closed}).status_code == 422


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "asia/shanghai", "Asia/Shanghai\u0000"])
def test_unknown_timezones_are_refused(api, owned, tz):
    assert create(api, owned, timezone=tz).status_code == 422


def test_known_timezones_are_kept(api, owned):
    assert create(api, owned, timezone="Europe/Berlin").json()["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize("changes, code", [
    ({"primary_category": "auto_service"}, "category_not_leaf"),
    ({"primary_category": "auto.nothing"}, "unknown_category"),
    ({"categories": ["dining"]}, "category_not_leaf"),
])
def test_stores_provide_specific_known_services(api, owned, changes, code):
    assert create(api, owned, **changes).json()["error"]["code"] == code


def test_replacing_hours(api, db, owned):
    _, merchant, headers = owned
    store = make_store(db, merchant)
    hours = {"intervals": [interval(weekday=6, opens="10:00", closes="22:00", next_day=False)]}
    response = api.put(f"/api/v1/stores/{store.id}/hours", json=hours, headers=headers)
    assert response.status_code == 200 and response.json()["hours"] == {**hours, "closed_dates": []}


def test_a_closed_store_leaves_the_public_list_and_detail(api, db, owned):
    _, merchant, headers = owned
    kept, closed = make_store(db, merchant, name="留下"), make_store(db, merchant, name="关掉")
    assert api.delete(f"/api/v1/stores/{closed.id}", headers=headers).status_code == 204
    public = [s["id"] for s in api.get("/api/v1/stores", params={"merchant_id": merchant.id}).json()["items"]]
    assert public == [kept.id]
    gone = api.get(f"/api/v1/stores/{closed.id}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "store_not_found"
    assert api.get(f"/api/v1/stores/{closed.id}", headers=headers).json()["status"] == "closed"
    console = api.get(f"/api/v1/merchants/{merchant.id}/stores", headers=headers).json()["items"]
    assert {s["id"] for s in console} == {kept.id, closed.id}


def test_a_paused_store_stays_listed_but_is_not_open(api, db, owned):
    _, merchant, headers = owned
    store = make_store(db, merchant)
    paused = api.patch(f"/api/v1/stores/{store.id}", json={"status": "paused"}, headers=headers).json()
    assert paused["status"] == "paused" and paused["open_now"] is False
    assert [s["id"] for s in api.get("/api/v1/stores").json()["items"]] == [store.id]


def test_stores_of_a_pending_merchant_are_not_public(api, db):
    owner = make_user(db)
    store = make_store(db, make_merchant(db, owner, status="pending"))
    assert api.get(f"/api/v1/stores/{store.id}").status_code == 404
    assert api.get("/api/v1/stores").json()["items"] == []
    assert api.get(f"/api/v1/stores/{store.id}", headers=auth(db, owner)).status_code == 200


def test_stores_filter_by_service_category_group(api, db, owned):
    _, merchant, _ = owned
    wash = make_store(db, merchant, category="auto_service.car_wash")
    make_store(db, merchant, category="dining.hotpot")
    for code in ("auto_service", "auto_service.car_wash"):
        items = api.get("/api/v1/stores", params={"service_category": code}).json()["items"]
        assert [s["id"] for s in items] == [wash.id]
    assert api.get("/api/v1/stores", params={"service_category": "Auto"}).status_code == 422


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_coordinates_are_refused(api, owned, number):
    _, merchant, headers = owned
    raw = ('{"name": "店", "address": "路", "primary_category": "auto_service.car_wash", '
           f'"location": {{"lat": {number}, "lng": 120, "datum": "wgs84"}}}}')
    response = api.post(f"/api/v1/merchants/{merchant.id}/stores", content=raw.encode(),
                        headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
