"""The photo API: who may attach photos to what, the caps, the stable error codes, and serving."""

import pytest

from daodian.accounts.models import StaffRole
from tests.factories import add_staff, auth, make_merchant, make_record, make_store, make_user
from tests.media.support import has_gps, jpeg_with_gps, png

PATHS = {"store": "stores", "product": "products", "service_item": "service-items", "review": "reviews"}


def _upload(client, headers, kind, owner_id, data, name="photo.jpg", content_type="image/jpeg"):
    return client.post(f"/api/v1/{PATHS[kind]}/{owner_id}/photos", files={"file": (name, data, content_type)},
                       headers=headers)


def test_staff_add_a_store_photo_and_it_comes_back_without_gps(client, db, shop):
    response = _upload(client, auth(db, shop.manager), "store", shop.store.id, jpeg_with_gps())
    assert response.status_code == 201, response.text
    photo = response.json()
    assert photo["owner_kind"] == "store" and photo["position"] == 0 and photo["url"].startswith("/media/")
    served = client.get(photo["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"] and served.headers["etag"]
    assert not has_gps(served.content)
    again = client.get(photo["url"], headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304
    assert client.get(photo["thumb_url"]).status_code == 200
    listed = client.get("/api/v1/photos", params={"owner_kind": "store", "owner_id": shop.store.id}).json()
    assert [p["id"] for p in listed] == [photo["id"]]


def test_the_content_decides_not_the_name_or_content_type(client, db, shop):
    # A PNG sent as "x.gif" with a text Content-Type is accepted as what it is...
    ok = _upload(client, auth(db, shop.owner), "product", shop.product.id, png(), name="x.gif", content_type="text/plain")
    assert ok.status_code == 201, ok.text
    # ...and text named .jpg with image/jpeg is refused with a stable code.
    bad = _upload(client, auth(db, shop.owner), "product", shop.product.id, b"not an image at all")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "image_invalid"


def test_another_merchant_cannot_attach_photos_to_your_store(client, db, shop):
    rival = make_user(db, name="对手")
    make_merchant(db, rival, name="对手商户")
    response = _upload(client, auth(db, rival), "store", shop.store.id, jpeg_with_gps())
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    clerk = _upload(client, auth(db, shop.clerk), "service_item", shop.item.id, jpeg_with_gps())
    assert clerk.status_code == 403  # a clerk works the counter; photos are the manager's
    assert _upload(client, {}, "store", shop.store.id, jpeg_with_gps()).status_code == 401
    assert client.get("/api/v1/photos", params={"owner_kind": "store", "owner_id": shop.store.id}).json() == []


def test_only_the_owner_removes_a_photo(client, db, shop):
    photo = _upload(client, auth(db, shop.manager), "store", shop.store.id, jpeg_with_gps()).json()
    other = make_user(db, name="路人")
    assert client.delete(f"/api/v1/photos/{photo['id']}", headers=auth(db, other)).status_code == 403
    assert client.delete(f"/api/v1/photos/{photo['id']}", headers=auth(db, shop.owner)).status_code == 204
    assert client.get(photo["url"]).status_code == 404
    assert client.delete(f"/api/v1/photos/{photo['id']}", headers=auth(db, shop.owner)).json()["error"]["code"] \
        == "photo_not_found"


def test_unknown_owner_and_missing_file(client, db, shop):
    missing = _upload(client, auth(db, shop.owner), "store", 10**9, jpeg_with_gps())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "photo_owner_not_found"
    no_file = client.post(f"/api/v1/stores/{shop.store.id}/photos", headers=auth(db, shop.owner))
    assert no_file.status_code == 422


@pytest.fixture
def review_of(client, db, shop):
    consumer = make_user(db, name="小李")
    record = make_record(db, shop.store, shop.clerk, consumer=consumer)
    body = {"record_id": record.id, "rating_experience": 5, "rating_service": 5, "text": "不错"}
    response = client.post("/api/v1/reviews", json=body, headers=auth(db, consumer))
    assert response.status_code == 201, response.text
    return consumer, response.json()["id"]


def test_a_consumer_adds_at_most_nine_photos_to_their_review(client, db, shop, review_of):
    consumer, review_id = review_of
    small = png(32, 32, "RGB")
    for i in range(9):
        response = _upload(client, auth(db, consumer), "review", review_id, small, name="p.png")
        assert response.status_code == 201 and response.json()["position"] == i
    tenth = _upload(client, auth(db, consumer), "review", review_id, small, name="p.png")
    assert tenth.status_code == 409 and tenth.json()["error"]["code"] == "too_many_photos"
    assert tenth.json()["error"]["details"] == {"max_photos": 9}


def test_nobody_else_adds_photos_to_a_review(client, db, shop, review_of):
    _, review_id = review_of
    stranger = make_user(db, name="陌生人")
    refused = _upload(client, auth(db, stranger), "review", review_id, png())  # as if there were no such review
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "photo_owner_not_found"
    # Not even the reviewed merchant's staff: the review is the consumer's.
    assert _upload(client, auth(db, shop.owner), "review", review_id, png()).status_code == 403


def test_too_large_upload_is_refused_unread(client, db, shop, app):
    limit = app.state.settings.media_max_bytes
    response = _upload(client, auth(db, shop.owner), "store", shop.store.id, b"\xff\xd8" + b"\0" * limit)
    assert response.status_code == 413 and response.json()["error"]["code"] == "image_too_large"


def test_a_second_store_keeps_its_own_gallery(client, db, shop):
    second = make_store(db, shop.merchant, name="二号店")
    manager = make_user(db, name="二号店长")
    add_staff(db, shop.merchant, manager, StaffRole.MANAGER)
    first = _upload(client, auth(db, manager), "store", second.id, png()).json()
    assert first["position"] == 0 and first["owner_id"] == second.id
