"""Photos through the pages: a consumer's review with photos (at most nine, GPS removed, all or nothing),
the store page's gallery and the merchant console's upload, which another merchant cannot reach."""

import re

from sqlalchemy import func, select

from daodian.media.models import OwnerKind, Photo
from daodian.records.models import Review
from tests.factories import auth, make_merchant, make_record, make_user
from tests.media.support import has_gps, jpeg_with_gps, png
from tests.web.support import csrf_from, english, log_in

IMG = re.compile(r'<img src="(/media/[0-9a-f]{32}\.thumb\.jpg)"')
FULL = re.compile(r'data-full="(/media/[0-9a-f]{32}\.jpg)"')


def _review_form(client, db, shop, files):
    consumer = make_user(db, name="小周")
    record = make_record(db, shop.store, shop.clerk, consumer=consumer)
    log_in(client, db, consumer)
    english(client)
    path = f"/reviews/new?record_id={record.id}"
    assert 'enctype="multipart/form-data"' in client.get(path).text
    body = {"csrf_token": csrf_from(client, path), "record_id": str(record.id), "rating_experience": "5",
            "rating_service": "4", "text": "拍了几张照片"}
    return client.post("/reviews/new", data=body, files=files, follow_redirects=False), consumer


def test_a_review_with_photos_from_the_form_keeps_them_without_gps(client, db, shop):
    files = [("photos", (f"IMG_{i}.jpg", jpeg_with_gps(), "image/jpeg")) for i in range(2)]
    response, consumer = _review_form(client, db, shop, files)
    assert response.status_code == 303, response.text[:500]
    done = client.get(response.headers["location"])
    fulls = FULL.findall(done.text)
    assert len(fulls) == 2
    assert all(not has_gps(client.get(url).content) for url in fulls)
    review_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert f'data-testid="review-photos-{review_id}"' in client.get(f"/s/{shop.store.id}").text


def test_ten_photos_are_refused_and_no_review_is_left(client, db, shop):
    files = [("photos", (f"p{i}.png", png(8, 8, "RGB"), "image/png")) for i in range(10)]
    response, consumer = _review_form(client, db, shop, files)
    assert response.status_code == 422 and "at most nine photos" in response.text
    assert db.scalar(select(func.count()).select_from(Review).where(Review.consumer_id == consumer.id)) == 0


def test_a_bad_photo_refuses_the_whole_review(client, db, shop):
    files = [("photos", ("good.png", png(), "image/png")), ("photos", ("bad.jpg", b"not an image", "image/jpeg"))]
    response, consumer = _review_form(client, db, shop, files)
    assert response.status_code == 422 and "not a readable image" in response.text
    assert db.scalar(select(func.count()).select_from(Review).where(Review.consumer_id == consumer.id)) == 0
    assert db.scalar(select(func.count()).select_from(Photo).where(Photo.owner_kind == OwnerKind.REVIEW)) == 0


def test_the_console_uploads_store_photos_and_the_store_page_shows_them(client, db, shop):
    log_in(client, db, shop.manager)
    english(client)
    path = f"/merchant/stores/{shop.store.id}/photos"
    csrf = csrf_from(client, path)
    sent = client.post(path, data={"csrf_token": csrf}, files={"photo": ("shop.jpg", jpeg_with_gps(), "image/jpeg")},
                       follow_redirects=False)
    assert sent.status_code == 303
    bad = client.post(path, data={"csrf_token": csrf}, files={"photo": ("x.jpg", b"GIF89a", "image/jpeg")})
    assert bad.status_code == 422 and 'data-code="image_invalid"' in bad.text
    store_page = client.get(f"/s/{shop.store.id}").text
    assert 'data-testid="store-photos"' in store_page and len(IMG.findall(store_page)) == 1
    assert 'data-testid="manage-photos"' in store_page


def test_another_merchant_cannot_open_or_post_to_your_store_photos(client, db, shop):
    rival = make_user(db, name="别家老板")
    make_merchant(db, rival, name="别家")
    log_in(client, db, rival)
    path = f"/merchant/stores/{shop.store.id}/photos"
    assert client.get(path).status_code == 403
    csrf = csrf_from(client, "/")
    sent = client.post(path, data={"csrf_token": csrf}, files={"photo": ("shop.jpg", png(), "image/png")})
    assert sent.status_code == 403
    assert db.scalar(select(func.count()).select_from(Photo)) == 0


def test_the_product_category_shows_each_products_cover(client, db, shop):
    sent = client.post(f"/api/v1/products/{shop.product.id}/photos", files={"file": ("p.png", png(), "image/png")},
                       headers=auth(db, shop.owner))
    assert sent.status_code == 201
    page = client.get("/c/auto.oil").text
    assert f'data-testid="product-{shop.product.id}"' in page and sent.json()["thumb_url"] in page
