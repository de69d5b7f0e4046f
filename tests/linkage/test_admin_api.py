"""The operator's link API: listing, creating and deciding on links; nobody else may touch them."""

import pytest
from sqlalchemy import func, select

from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from tests.factories import auth, make_merchant, make_user

LINKS = "/api/v1/admin/links"


@pytest.fixture
def operator_headers(db):
    return auth(db, make_user(db, operator=True, name="运营"))


def _snapshot(db):
    db.expire_all()
    return sorted((r.id, r.status, r.strength, r.reviewed_by) for r in db.scalars(select(CategoryLink)))


def test_operator_lists_links_by_status_and_source_in_pages(client, operator_headers):
    first = client.get(LINKS, params={"status": "live", "source": "curated", "limit": 5}, headers=operator_headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["items"]) == 5 and body["next_cursor"]
    link = body["items"][0]
    assert link["source"] == "curated" and link["status"] == "live" and link["mining"] is None
    assert {"code", "name_zh", "name_en", "level"} <= link["product_category"].keys()
    second = client.get(LINKS, params={"status": "live", "limit": 5, "cursor": body["next_cursor"]},
                        headers=operator_headers).json()
    assert {i["id"] for i in second["items"]}.isdisjoint({i["id"] for i in body["items"]})
    assert client.get(LINKS, params={"status": "candidate"}, headers=operator_headers).json()["items"] == []
    by_product = client.get(LINKS, params={"product_category": "wedding"}, headers=operator_headers).json()
    assert {i["service_category"]["code"] for i in by_product["items"]} == {
        "wedding_service.photo", "wedding_service.planning", "wedding_service.banquet"}


def test_operator_creates_a_curated_link(client, db, operator_headers):
    created = client.post(LINKS, json={"product_category": "food.tea", "service_category": "dining.cafe",
                                       "strength": 0.5}, headers=operator_headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["source"] == "curated" and body["status"] == "live" and body["strength"] == 0.5
    assert body["product_category"]["code"] == "food.tea" and body["reviewed_by"] is not None
    again = client.post(LINKS, json={"product_category": "food.tea", "service_category": "dining.cafe"},
                        headers=operator_headers)
    assert again.status_code == 409 and again.json()["error"]["details"] == {"link_id": body["id"]}


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"product_category": "food.tea", "service_category": "dining"}, 422, "category_not_leaf"),
    ({"product_category": "food.nothing", "service_category": "dining.cafe"}, 404, "unknown_category"),
    ({"product_category": "food.tea", "service_category": "dining.cafe", "strength": 1.5}, 422, "validation_error"),
    ({"product_category": "food.tea", "service_category": "dining.cafe", "source": "mined"}, 201, None),
])
def test_create_rejects_bad_links(client, operator_headers, payload, status, code):
    response = client.post(LINKS, json=payload, headers=operator_headers)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["error"]["code"] == code
    else:
        assert response.json()["source"] == "curated"  # operators cannot pose as the miner


def test_operator_decides_on_a_link(client, db, operator_headers):
    link = db.scalars(select(CategoryLink).where(CategoryLink.source == LinkSource.CURATED)).first()
    patched = client.patch(f"{LINKS}/{link.id}", json={"status": "rejected", "strength": 0.3},
                           headers=operator_headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "rejected" and patched.json()["strength"] == 0.3
    assert patched.json()["reviewed_at"] is not None
    assert client.patch(f"{LINKS}/{link.id}", json={}, headers=operator_headers).status_code == 422
    assert client.patch(f"{LINKS}/999999999", json={"status": "live"}, headers=operator_headers).status_code == 404


def test_nobody_else_may_touch_links(client, db):
    link_id = db.scalar(select(CategoryLink.id).limit(1))
    owner = make_user(db, name="店主")
    make_merchant(db, owner)
    before, count = _snapshot(db), db.scalar(select(func.count()).select_from(CategoryLink))
    for headers, status in (({}, 401), (auth(db, owner), 403), (auth(db, make_user(db)), 403)):
        assert client.get(LINKS, headers=headers).status_code == status
        assert client.post(LINKS, json={"product_category": "food.tea", "service_category": "dining.cafe"},
                           headers=headers).status_code == status
        assert client.patch(f"{LINKS}/{link_id}", json={"status": "rejected"}, headers=headers).status_code == status
    assert db.scalar(select(func.count()).select_from(CategoryLink)) == count
    assert _snapshot(db) == before
    assert all(status == LinkStatus.LIVE for _, status, _, _ in before)
