"""Every failure of the JSON API is the error envelope with a stable code, and bad input is a 4xx."""

import pytest

from tests.factories import auth, make_merchant, make_user


def envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == code and error["message"]
    return error


def test_unknown_route_is_a_404_envelope(api):
    envelope(api.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_a_405_envelope_listing_every_allowed_method(api):
    response = api.put("/api/v1/merchants/1")
    envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, PATCH, DELETE"
    assert api.options("/api/v1/merchants/1/staff").headers["allow"] == "GET, POST"


def test_validation_errors_name_the_fields(api, db):
    headers = auth(db, make_user(db))
    error = envelope(api.post("/api/v1/merchants", json={"name": "", "phone": "abc"}, headers=headers),
                     422, "validation_error")
    assert {tuple(p["loc"]) for p in error["details"]} == {("body", "name"), ("body", "phone")}
    assert all(set(p) == {"loc", "type", "msg"} for p in error["details"])  # no echo of the input


@pytest.mark.parametrize("raw", [b'{"name": ', b"not json", b'{"name": "\xff\xfe"}', b"\xff\xfe\xfd"])
def test_malformed_or_non_utf8_bodies_are_a_4xx_envelope(api, db, raw):
    headers = {**auth(db, make_user(db)), "Content-Type": "application/json"}
    response = api.post("/api/v1/merchants", content=raw, headers=headers)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("bad_request", "validation_error")


def test_nul_characters_are_refused_everywhere(api, db):
    headers = auth(db, make_user(db))
    error = envelope(api.post("/api/v1/merchants", json={"name": "老王\u0000汽修"}, headers=headers),
                     422, "validation_error")
    assert "NUL" in error["message"]
    envelope(api.get("/api/v1/products", params={"q": "机油\u0000"}), 422, "validation_error")
    envelope(api.get("/api/v1/catalog/product-categories/auto%00"), 422, "validation_error")


@pytest.mark.parametrize("url", [
    "/api/v1/merchants/99999999999999999999999", "/api/v1/merchants/9007199254740992", "/api/v1/merchants/0",
    "/api/v1/merchants?limit=100000000000000000000000", "/api/v1/stores?merchant_id=9007199254740992",
])
def test_out_of_range_numbers_are_a_422_not_an_overflow(api, url):
    envelope(api.get(url), 422, "validation_error")


@pytest.mark.parametrize("segment", ["-1", "abc", "1.5", "nearby"])
def test_ids_in_paths_are_digits_or_nothing_is_there(api, segment):
    """Ids are matched as digits when routing, so /stores/nearby is never taken for /stores/{store_id}."""
    envelope(api.get(f"/api/v1/products/{segment}"), 404, "not_found")
    assert api.patch(f"/api/v1/stores/{segment}", json={}).status_code in (404, 405)


@pytest.mark.parametrize("name, value", [
    ("description", 12), ("phone", True), ("name", None), ("name", ["x"]),
])
def test_wrong_json_types_are_refused(api, db, name, value):
    owner = make_user(db)
    merchant = make_merchant(db, owner)
    response = api.patch(f"/api/v1/merchants/{merchant.id}", json={name: value}, headers=auth(db, owner))
    if name == "name" and value is None:
        assert response.status_code == 200  # null means "leave unchanged" for optional fields
    else:
        envelope(response, 422, "validation_error")


def test_numbers_must_be_json_numbers_not_booleans_or_text(api, db):
    owner = make_user(db)
    merchant = make_merchant(db, owner)
    headers = auth(db, owner)
    base = {"category": "auto.oil", "name_zh": "机油"}
    for price in (True, "100", 1.5):
        body = {**base, "skus": [{"code": "A", "price_fen": price}]}
        envelope(api.post(f"/api/v1/merchants/{merchant.id}/products", json=body, headers=headers),
                 422, "validation_error")
    body = {**base, "skus": [{"code": "A", "price_fen": 100.0}]}  # JSON Schema's integer includes 1.0
    assert api.post(f"/api/v1/merchants/{merchant.id}/products", json=body, headers=headers).status_code == 201


def test_unexpected_errors_are_a_500_envelope_without_a_stack_trace(api, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("daodian.taxonomy.service.category_tree", explode)
    error = envelope(api.get("/api/v1/catalog/product-categories"), 500, "internal_error")
    assert "secret" not in error["message"]
