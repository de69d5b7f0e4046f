"""GET /products/{id}/services: the live links of the product's category (and its parent), with stores
ranked by the nearby index (nearby.index)."""

from sqlalchemy import select

from daodian.geo.datum import Datum, from_wgs84
from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.merchants.models import MerchantStatus, StoreStatus
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from tests.factories import auth, make_merchant, make_product, make_store, make_user

# The shopper, at West Lake (WGS-84); stores are placed by metres north of it.
HERE = (30.2500, 120.1500)
METRES_PER_DEGREE = 111_195.0


def _services(client, product_id, **params):
    response = client.get(f"/api/v1/products/{product_id}/services", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _store_north(db, merchant, metres: float, *, name: str, category: str):
    lat, lng = from_wgs84(HERE[0] + metres / METRES_PER_DEGREE, HERE[1], Datum.GCJ02)
    return make_store(db, merchant, name=name, lat=lat, lng=lng, datum="gcj02", category=category)


def _category_id(db, model, code):
    return db.scalar(select(model.id).where(model.code == code))


def test_oil_links_to_oil_change_and_only_live_links_count(client, db):
    merchant = make_merchant(db, make_user(db))
    oil = make_product(db, merchant, category="auto.oil")
    body = _services(client, oil.id)
    assert body["product_category"]["code"] == "auto.oil"
    assert [s["service_category"]["code"] for s in body["services"]] == ["auto_service.oil_change"]
    assert body["services"][0]["sources"] == ["curated"] and body["services"][0]["stores"] is None

    oil_id = _category_id(db, ProductCategory, "auto.oil")
    wash = CategoryLink(product_category_id=oil_id, service_category_id=_category_id(db, ServiceCategory,
                        "auto_service.car_wash"), source=LinkSource.MINED, status=LinkStatus.CANDIDATE,
                        strength=0.95, support=0.01, confidence=0.3, lift=2.5, pair_count=40, antecedent_count=130,
                        consequent_count=900, window_days=30)
    db.add(wash)
    db.flush()
    assert len(_services(client, oil.id)["services"]) == 1  # a candidate is not shown
    wash.status = LinkStatus.LIVE
    db.flush()
    services = _services(client, oil.id)["services"]
    assert [s["service_category"]["code"] for s in services] == ["auto_service.car_wash", "auto_service.oil_change"]
    assert services[0]["sources"] == ["mined"]

    curated = db.scalar(select(CategoryLink).where(CategoryLink.product_category_id == oil_id,
                                                   CategoryLink.source == LinkSource.CURATED))
    curated.status = LinkStatus.REJECTED
    db.flush()
    assert [s["service_category"]["code"] for s in _services(client, oil.id)["services"]] == ["auto_service.car_wash"]


def test_link_on_a_level_one_category_covers_its_children(client, db):
    merchant = make_merchant(db, make_user(db))
    for category in ("av.speaker", "av.mic"):
        product = make_product(db, merchant, category=category, name="蓝牙音箱")
        services = _services(client, product.id)["services"]
        assert [s["service_category"]["code"] for s in services] == ["leisure.ktv"]
        assert services[0]["via"]["code"] == "av"
    karaoke = make_product(db, merchant, category="av.karaoke", name="家用点歌机")
    merged = _services(client, karaoke.id)["services"]
    assert len(merged) == 1 and merged[0]["via"]["code"] == "av.karaoke" and merged[0]["strength"] == 0.9
    wedding = make_product(db, merchant, category="wedding.candy", name="喜糖礼盒")
    assert {s["service_category"]["code"] for s in _services(client, wedding.id)["services"]} == {
        "wedding_service.photo", "wedding_service.planning", "wedding_service.banquet"}


def test_nearest_open_listed_stores_per_service(api, db):
    seller = make_merchant(db, make_user(db), name="机油旗舰店")
    oil = make_product(db, seller, category="auto.oil")
    garage = make_merchant(db, make_user(db), name="途虎养车")
    far = _store_north(db, garage, 3000, name="远店", category="auto_service.oil_change")
    near = _store_north(db, garage, 400, name="近店", category="auto_service.oil_change")
    mid = _store_north(db, garage, 1500, name="中店", category="auto_service.oil_change")
    closed = _store_north(db, garage, 100, name="关店", category="auto_service.oil_change")
    closed.status = StoreStatus.CLOSED
    _store_north(db, garage, 50, name="洗车店", category="auto_service.car_wash")
    suspended = make_merchant(db, make_user(db), name="停业商户", status=MerchantStatus.SUSPENDED)
    _store_north(db, suspended, 10, name="停业店", category="auto_service.oil_change")
    _store_north(db, garage, 80_000, name="外地店", category="auto_service.oil_change")
    db.flush()

    body = _services(api, oil.id, lat=HERE[0], lng=HERE[1], datum="wgs84", limit_per_service=5)
    stores = body["services"][0]["stores"]
    assert [s["store"]["id"] for s in stores] == [near.id, mid.id, far.id]
    assert [round(s["distance_m"], -2) for s in stores] == [400, 1500, 3000]
    assert all(not s["promoted"] for s in stores)
    scores = [s["score"] for s in stores]  # the nearby ranking's order, explained part by part
    assert scores == sorted(scores, reverse=True)
    assert set(stores[0]["score_parts"]) == {"distance", "rating", "popularity", "open_now"}

    # The same place given in GCJ-02 (as AMap reports it) finds the same stores at the same distances.
    gcj = from_wgs84(*HERE, Datum.GCJ02)
    again = _services(api, oil.id, lat=gcj[0], lng=gcj[1], datum="gcj02", limit_per_service=2)
    assert [s["store"]["id"] for s in again["services"][0]["stores"]] == [near.id, mid.id]


def test_location_needs_both_coordinates(client, db):
    oil = make_product(db, make_merchant(db, make_user(db)), category="auto.oil")
    response = client.get(f"/api/v1/products/{oil.id}/services", params={"lat": 30.25})
    assert response.status_code == 422 and response.json()["error"]["code"] == "location_incomplete"
    assert response.json()["error"]["details"] == {"missing": "lng"}
    assert client.get(f"/api/v1/products/{oil.id}/services",
                      params={"lat": 91, "lng": 120}).status_code == 422


def test_hidden_products_are_only_for_their_merchant(client, db):
    owner = make_user(db)
    product = make_product(db, make_merchant(db, owner), category="auto.tyre", name="米其林轮胎")
    assert client.delete(f"/api/v1/products/{product.id}", headers=auth(db, owner)).status_code == 204
    assert client.get(f"/api/v1/products/{product.id}/services").status_code == 404
    mine = client.get(f"/api/v1/products/{product.id}/services", headers=auth(db, owner))
    assert mine.status_code == 200 and mine.json()["services"][0]["service_category"]["code"] == (
        "auto_service.tyre_fitting")
    assert client.get("/api/v1/products/999999999/services").status_code == 404
