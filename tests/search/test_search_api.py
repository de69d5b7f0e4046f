"""GET /api/v1/search: Chinese, pinyin, initials and English find products, categories, services and stores."""

import time

import pytest

from daodian.accounts.models import User
from daodian.taxonomy.models import CatalogStatus
from tests.factories import auth
from tests.search.conftest import HERE

SEARCH = "/api/v1/search"


def search(client, q: str, **params) -> dict:
    response = client.get(SEARCH, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def codes(items) -> list[str]:
    return [i["code"] for i in items]


@pytest.mark.parametrize("q", ["轮胎", "luntai", "LunTai", "lt", "lunt", "tyre", "tires", "Tyres", "Ｔｙｒｅ", "轮胎😀"])
def test_tyres_in_every_spelling(api, world, q):
    body = search(api, q)
    assert [p["id"] for p in body["products"]] == [world.tyre.id], q
    assert "auto.tyre" in codes(body["product_categories"])
    assert "auto_service.tyre_fitting" in codes(body["service_categories"])
    assert body["stores"] == []  # no location, no stores


def test_motor_oil_finds_oil_and_the_oil_change(api, world):
    for q in ("机油", "jiyou", "motor oil"):
        body = search(api, q)
        assert [p["id"] for p in body["products"]] == [world.oil.id], q
        services = body["service_categories"]
        assert services[0]["code"] == "auto_service.oil_change"
        assert services[0]["matched_by"] == ("link" if q == "motor oil" else "text")  # via auto.oil -> oil change
        assert "auto_service.tyre_fitting" not in codes(services)
    product = search(api, "机油")["products"][0]
    assert product["price_from_fen"] == 19900 and product["category"]["code"] == "auto.oil"


def test_mixed_and_partial_queries(api, world):
    assert [p["id"] for p in search(api, "米其林 tyre")["products"]] == [world.tyre.id]
    assert [p["id"] for p in search(api, "205/55R16")["products"]] == [world.tyre.id]
    assert [p["id"] for p in search(api, "4L 机油")["products"]] == [world.oil.id]  # SKU specs count
    assert codes(search(api, "唱歌")["service_categories"]) == ["leisure.ktv"]
    assert codes(search(api, "换胎")["service_categories"])[0] == "auto_service.tyre_fitting"
    assert search(api, "xyzzy")["products"] == []


def test_services_linked_from_what_matched(api, world):
    body = search(api, "音箱")
    assert [p["id"] for p in body["products"]] == [world.speaker.id]
    ktv = next(s for s in body["service_categories"] if s["code"] == "leisure.ktv")
    assert ktv["matched_by"] == "link" and ktv["via"]["code"] == "av"


def test_stores_for_matched_services_nearest_first(api, world):
    body = search(api, "轮胎", lat=HERE[0], lng=HERE[1], datum="wgs84")
    tyre_fitting = next(g for g in body["stores"] if g["service_category"]["code"] == "auto_service.tyre_fitting")
    assert [i["store"]["id"] for i in tyre_fitting["items"]] == [world.tyre_near.id, world.tyre_far.id]
    assert 550 < tyre_fitting["items"][0]["distance_m"] < 650
    oil = search(api, "luntai", lat=HERE[0], lng=HERE[1], stores_per_service=1)
    assert all(len(g["items"]) <= 1 for g in oil["stores"])
    assert all(g["service_category"]["code"] != "auto_service.oil_change" for g in oil["stores"])


def test_hidden_products_are_never_found(api, world):
    assert world.hidden.id not in {p["id"] for p in search(api, "停售轮胎")["products"]}
    assert world.hidden.id not in {p["id"] for p in search(api, "lt")["products"]}


def _wait_for(predicate, timeout: float = 1.5) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "not visible in time"
        time.sleep(0.05)
    return time.monotonic() - started


def test_changes_are_searchable_within_a_second_without_restart(api, world, db):
    headers = auth(db, db.get(User, world.owner_id))
    created = api.post(f"/api/v1/merchants/{world.merchant.id}/products", headers=headers, json={
        "category": "auto.tyre", "name_zh": "倍耐力雪地胎", "name_en": "Pirelli winter tyre",
        "skus": [{"code": "r17", "spec_zh": "225/45R17", "price_fen": 89900}]})
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    assert _wait_for(lambda: new_id in {p["id"] for p in search(api, "xuedi")["products"]}) < 1.5

    sku = api.post(f"/api/v1/products/{world.oil.id}/skus", headers=headers,
                   json={"code": "1l", "spec_zh": "试用装", "price_fen": 5900})
    assert sku.status_code == 201, sku.text
    _wait_for(lambda: [p["id"] for p in search(api, "试用装")["products"]] == [world.oil.id])

    assert api.delete(f"/api/v1/products/{new_id}", headers=headers).status_code == 204
    index = api.app.state.search_index
    _wait_for(lambda: search(api, "xuedi") is not None and ("product", new_id) not in index.index)
    assert search(api, "xuedi")["products"] == []


def test_hidden_in_the_database_but_not_yet_in_the_index_is_still_not_shown(api, world, db):
    world.tyre.status = CatalogStatus.HIDDEN  # flushed below without touching the index's watermark
    db.flush()
    assert search(api, "米其林")["products"] == []


@pytest.mark.parametrize("q", ["", " ", "\u3000\t", "😀", "!!!", "\u200b", "a" * 101, "轮" * 5000, "轮胎\x00",
                               "\x00", "\u202e", "%", "' OR 1=1 --", "<script>"])
def test_empty_long_or_odd_queries_are_client_errors(api, q):
    response = api.get(SEARCH, params={"q": q})
    assert 400 <= response.status_code < 500 or response.status_code == 200, (q, response.status_code)
    if response.status_code != 200:
        assert response.json()["error"]["code"] == "validation_error"
    if q.strip() == "" or q in ("😀", "!!!", "\u200b", "\x00", "轮胎\x00") or len(q) > 100:
        assert response.status_code == 422, q


@pytest.mark.parametrize("raw", ["%ED%A0%80", "%FF%FE", "%E8%BD%AE%E8%83%8E%00", "%F0%9F%98%80" * 40])
def test_undecodable_query_strings_are_client_errors(api, raw):
    response = api.get(f"{SEARCH}?q={raw}")
    assert response.status_code == 422, (raw, response.text)


def test_missing_query_and_half_a_location(api):
    assert api.get(SEARCH).status_code == 422
    assert api.get(SEARCH, params={"q": "轮胎", "lng": 120.1}).status_code == 422
    assert api.get(SEARCH, params={"q": "轮胎", "lat": "nan", "lng": 120.1}).status_code == 422
    assert api.get(SEARCH, params={"q": "轮胎", "limit": 0}).status_code == 422
