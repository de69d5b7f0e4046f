"""GET /api/v1/stores/nearby over the city: the JSON it builds at once is what the response models say,
with the stores as store_reads shows them, ranked as scoring every store would; `sort=distance` too."""

import numpy as np
import pytest
from sqlalchemy import update

from daodian.kit.clock import utcnow
from daodian.merchants import stores
from daodian.merchants.models import Store
from daodian.nearby import index as nearby
from daodian.nearby import store_json
from daodian.nearby.endpoints import NearbyPage
from tests.nearby.city import MOMENTS, build_city
from tests.nearby.reference import Everyone

URL = "/api/v1/stores/nearby"


@pytest.fixture
def city(db):
    return build_city(db, stores=600)


@pytest.fixture
def http(city, client, app, monkeypatch):
    """The client, started after the city exists, asking at a fixed moment."""
    monkeypatch.setattr(nearby, "utcnow", lambda: MOMENTS[1])
    return client


@pytest.mark.parametrize("sort", ["score", "distance"])
def test_results_are_the_models_and_the_ranking(http, db, city, sort):
    everyone = Everyone.read(db)
    rng = np.random.default_rng(21)
    asked = 0
    for lat, lng in [city.places[i] for i in rng.integers(0, len(city.places), 25)]:
        params = {"lat": lat, "lng": lng, "datum": "wgs84", "radius_m": 2000, "limit": 10, "sort": sort}
        response = http.get(URL, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert NearbyPage.model_validate(body).model_dump(mode="json") == body
        expected = everyone.search(lat, lng, 2000, category_ids=None, open_only=False, limit=10, now=MOMENTS[1],
                                   sort=sort)
        assert [(i["store"]["id"], i["open_now"], i["score"], i["score_parts"], i["promoted"]) for i in body["items"]] == [
            (store_id, is_open, score, parts, promoted) for store_id, _, is_open, score, parts, promoted in expected]
        assert [i["distance_m"] for i in body["items"]] == [round(d) for _, d, *_ in expected]
        reads = stores.store_reads_by_id(db, [i["store"]["id"] for i in body["items"]],
                                         open_now={i["store"]["id"]: i["open_now"] for i in body["items"]})
        assert [i["store"] for i in body["items"]] == [r.model_dump(mode="json") for r in reads]
        asked += bool(body["items"])
    assert asked > 10


def test_sort_is_documented_and_checked(http):
    spec = http.get("/openapi.json").json()
    sort = next(p for p in spec["paths"][URL]["get"]["parameters"] if p["name"] == "sort")
    assert sort["schema"]["default"] == "score" and "distance" in str(sort["schema"])
    bad = http.get(URL, params={"lat": 30, "lng": 120, "datum": "wgs84", "sort": "rating"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_a_changed_store_shows_as_it_is_now(http, db, city, app):
    # Each process keeps the views it has shown (nearby.store_json) until the index hears of a change.
    lat, lng = city.places[0]
    params = {"lat": lat, "lng": lng, "datum": "wgs84", "radius_m": 2000, "limit": 5}
    first = http.get(URL, params=params).json()["items"][0]["store"]
    assert len(app.state.nearby.views) >= 1
    db.execute(update(Store).where(Store.id == first["id"]).values(name="改名后的店", updated_at=utcnow()))
    db.flush()
    app.state.nearby.refresh(db, force=True)
    again = next(i["store"] for i in http.get(URL, params=params).json()["items"] if i["store"]["id"] == first["id"])
    assert again["name"] == "改名后的店"



def test_views_kept_stay_within_their_bytes(http, db, city, app, monkeypatch):
    # Each process keeps store views up to store_json.MAX_BYTES, the oldest going first; what it shows
    # is the store as store_reads shows it, whether its view was kept or read again.
    monkeypatch.setattr(store_json, "MAX_BYTES", 20_000)
    rng = np.random.default_rng(5)
    asked = [{"lat": lat, "lng": lng, "datum": "wgs84", "radius_m": 2000, "limit": 10}
             for lat, lng in [city.places[i] for i in rng.integers(0, len(city.places), 12)]]
    views = app.state.nearby.views
    shown = set()
    for params in asked * 2:
        items = http.get(URL, params=params).json()["items"]
        shown |= {i["store"]["id"] for i in items}
        reads = stores.store_reads_by_id(db, [i["store"]["id"] for i in items],
                                         open_now={i["store"]["id"]: i["open_now"] for i in items})
        assert [i["store"] for i in items] == [r.model_dump(mode="json") for r in reads]
        kept = sum(len(a) + len(b) + store_json._PER_VIEW for a, b in views._kept.values())
        assert views.bytes == kept <= store_json.MAX_BYTES
    assert 0 < len(views) < len(shown)  # some were let go
    views.forget(list(views._kept)[:3])
    assert views.bytes == sum(len(a) + len(b) + store_json._PER_VIEW for a, b in views._kept.values())
