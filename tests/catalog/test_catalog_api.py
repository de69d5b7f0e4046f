"""Category trees, products with SKUs, and service items."""

import pytest

from tests.factories import add_staff, auth, make_item, make_merchant, make_product, make_store, make_user


def test_the_trees_have_two_levels(api):
    for kind, parent, child in (("product", "auto", "auto.oil"), ("service", "auto_service", "auto_service.oil_change")):
        tree = api.get(f"/api/v1/catalog/{kind}-categories").json()
        root = next(n for n in tree if n["code"] == parent)
        assert root["level"] == 1 and child in [c["code"] for c in root["children"]]
        assert all(c["level"] == 2 and c["children"] == [] for n in tree for c in n["children"])


def test_category_detail_names_parent_and_children(api):
    leaf = api.get("/api/v1/catalog/product-categories/auto.oil").json()
    assert leaf["name_zh"] == "机油" and leaf["parent"]["code"] == "auto" and leaf["children"] == []
    group = api.get("/api/v1/catalog/service-categories/auto_service").json()
    assert group["parent"] is None and "auto_service.tyre_fitting" in [c["code"] for c in group["children"]]
    missing = api.get("/api/v1/catalog/product-categories/auto.nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_category"
    assert api.get("/api/v1/catalog/service-categories/auto.oil").status_code == 404  # a product code


@pytest.fixture
def shop(db):
    owner = make_user(db)
    merchant = make_merchant(db, owner)
    return owner, merchant, auth(db, owner)


def test_products_of_a_level_one_category_include_its_subcategories(api, db, shop):
    _, merchant, _ = shop
    oil, tyre = make_product(db, merchant, category="auto.oil"), make_product(db, merchant, category="auto.tyre")
    mask = make_product(db, merchant, category="beauty.mask")
    ids = lambda params: [p["id"] for p in api.get("/api/v1/products", params=params).json()["items"]]  # noqa: E731
    assert ids({"category": "auto"}) == [oil.id, tyre.id]
    assert ids({"category": "auto.tyre"}) == [tyre.id]
    assert ids({}) == [oil.id, tyre.id, mask.id]
    assert ids({"q": "机油", "merchant_id": merchant.id}) == [oil.id, tyre.id, mask.id]  # factory names them all 机油
    assert ids({"q": "motor"}) == [oil.id, tyre.id, mask.id]
    assert ids({"q": "no such thing"}) == []
    assert api.get("/api/v1/products", params={"category": "nope"}).json()["error"]["code"] == "unknown_category"


def test_product_detail_has_skus_and_the_lowest_price(api, db, shop):
    _, merchant, headers = shop
    product = make_product(db, merchant, price_fen=29900)
    api.post(f"/api/v1/products/{product.id}/skus", json={"code": "1L", "price_fen": 9900}, headers=headers)
    body = api.get(f"/api/v1/products/{product.id}").json()
    assert [s["code"] for s in body["skus"]] == ["4L", "1L"] and body["price_from_fen"] == 9900
    assert body["category"]["code"] == "auto.oil"


def test_a_hidden_product_is_404_to_the_public_but_visible_to_its_staff(api, db, shop):
    owner, merchant, headers = shop
    product = make_product(db, merchant)
    assert api.delete(f"/api/v1/products/{product.id}", headers=headers).status_code == 204
    hidden = api.get(f"/api/v1/products/{product.id}")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "product_not_found"
    assert api.get(f"/api/v1/products/{product.id}", headers=auth(db, make_user(db))).status_code == 404
    assert api.get("/api/v1/products").json()["items"] == []
    clerk = make_user(db)
    add_staff(db, merchant, clerk, "clerk")
    for staff in (owner, clerk):
        assert api.get(f"/api/v1/products/{product.id}", headers=auth(db, staff)).json()["status"] == "hidden"


def test_sku_codes_are_unique_within_a_product(api, db, shop):
    _, merchant, headers = shop
    product, other = make_product(db, merchant), make_product(db, merchant)
    taken = api.post(f"/api/v1/products/{product.id}/skus", json={"code": "4L", "price_fen": 100}, headers=headers)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "sku_code_taken"
    assert api.post(f"/api/v1/products/{other.id}/skus", json={"code": "5L", "price_fen": 100},
                    headers=headers).status_code == 201
    twice = {"category": "auto.oil", "name_zh": "机油", "skus": [{"code": "A", "price_fen": 1}, {"code": "A", "price_fen": 2}]}
    response = api.post(f"/api/v1/merchants/{merchant.id}/products", json=twice, headers=headers)
    assert response.status_code == 422 and "distinct" in response.json()["error"]["message"]


@pytest.mark.parametrize("price", [-1, -29900, 10_000_000_001, 12.5, "100", None])
def test_impossible_prices_are_refused(api, db, shop, price):
    _, merchant, headers = shop
    product = make_product(db, merchant)
    sku_id = api.get(f"/api/v1/products/{product.id}").json()["skus"][0]["id"]
    bodies = [(f"/api/v1/products/{product.id}/skus", "post", {"code": "X", "price_fen": price}),
              (f"/api/v1/merchants/{merchant.id}/service-items", "post",
               {"service_category": "auto_service.car_wash", "name_zh": "洗车", "price_fen": price, "duration_min": 30})]
    if price is not None:
        bodies.append((f"/api/v1/skus/{sku_id}", "patch", {"price_fen": price}))
    for url, method, body in bodies:
        response = getattr(api, method)(url, json=body, headers=headers)
        assert response.status_code == 422, (url, response.text)


def test_sku_updates(api, db, shop):
    _, merchant, headers = shop
    product = make_product(db, merchant)
    sku_id = api.get(f"/api/v1/products/{product.id}").json()["skus"][0]["id"]
    updated = api.patch(f"/api/v1/skus/{sku_id}", json={"price_fen": 1, "status": "hidden"}, headers=headers).json()
    assert updated["price_fen"] == 1 and updated["status"] == "hidden"
    assert api.get(f"/api/v1/products/{product.id}").json()["price_from_fen"] is None


def item_body(**changes) -> dict:
    return {"service_category": "auto_service.tyre_fitting", "name_zh": "换胎", "name_en": "Tyre fitting",
            "price_fen": 8000, "duration_min": 30, **changes}


def test_service_items_are_offered_at_the_merchants_own_stores(api, db, shop):
    _, merchant, headers = shop
    store = make_store(db, merchant)
    response = api.post(f"/api/v1/merchants/{merchant.id}/service-items", json=item_body(store_ids=[store.id]),
                        headers=headers)
    assert response.status_code == 201 and response.json()["store_ids"] == [store.id]
    detail = api.get(f"/api/v1/stores/{store.id}").json()
    assert [i["name_zh"] for i in detail["service_items"]] == ["换胎"]


def test_a_store_of_another_merchant_is_refused(api, db, shop):
    _, merchant, headers = shop
    foreign = make_store(db, make_merchant(db, make_user(db), name="别家"))
    response = api.post(f"/api/v1/merchants/{merchant.id}/service-items", json=item_body(store_ids=[foreign.id]),
                        headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "store_not_of_merchant"
    assert response.json()["error"]["details"] == {"store_ids": [foreign.id]}
    item = make_item(db, merchant, [])
    moved = api.patch(f"/api/v1/service-items/{item.id}", json={"store_ids": [foreign.id]}, headers=headers)
    assert moved.json()["error"]["code"] == "store_not_of_merchant"


@pytest.mark.parametrize("code, error", [("auto_service", "category_not_leaf"), ("auto.oil", "unknown_category")])
def test_service_items_need_a_specific_service_category(api, shop, code, error):
    _, merchant, headers = shop
    response = api.post(f"/api/v1/merchants/{merchant.id}/service-items", json=item_body(service_category=code),
                        headers=headers)
    assert response.json()["error"]["code"] == error and response.status_code in (404, 422)


def test_hidden_service_items_are_only_for_staff(api, db, shop):
    _, merchant, headers = shop
    store = make_store(db, merchant)
    shown, hidden = make_item(db, merchant, [store.id]), make_item(db, merchant, [store.id])
    assert api.delete(f"/api/v1/service-items/{hidden.id}", headers=headers).status_code == 204
    url = f"/api/v1/merchants/{merchant.id}/service-items"
    assert [i["id"] for i in api.get(url).json()["items"]] == [shown.id]
    assert [i["id"] for i in api.get(url, headers=headers).json()["items"]] == [shown.id, hidden.id]
    assert api.get(f"/api/v1/service-items/{hidden.id}").status_code == 404
    assert [i["id"] for i in api.get(f"/api/v1/stores/{store.id}").json()["service_items"]] == [shown.id]


@pytest.mark.parametrize("duration", [0, 1441, -5, True])
def test_service_durations_are_bounded(api, shop, duration):
    _, merchant, headers = shop
    response = api.post(f"/api/v1/merchants/{merchant.id}/service-items", json=item_body(duration_min=duration),
                        headers=headers)
    assert response.status_code == 422
