"""The console's photo galleries of a product and a service item (web.photo_pages): upload without GPS,
remove, refusal of what is not an image, links from where the console shows them, and no way in for another
merchant or a clerk."""

import re

import pytest
from sqlalchemy import func, select

from daodian.media.models import OwnerKind, Photo
from tests.factories import make_merchant, make_user
from tests.media.support import has_gps, jpeg_with_gps, png
from tests.web.support import csrf_from, english, log_in

FULL = re.compile(r'data-full="(/media/[0-9a-f]{32}\.jpg)"')
PHOTO = re.compile(r'data-testid="photo-(\d+)"')


def _galleries(shop) -> dict[str, str]:
    return {"product": f"/merchant/products/{shop.product.id}/photos",
            "service_item": f"/merchant/items/{shop.item.id}/photos"}


def _count(db, kind: OwnerKind) -> int:
    return db.scalar(select(func.count()).select_from(Photo).where(Photo.owner_kind == kind))


@pytest.mark.parametrize("kind", ["product", "service_item"])
def test_a_manager_uploads_and_removes_photos(client, db, shop, kind):
    log_in(client, db, shop.manager)
    english(client)
    path = _galleries(shop)[kind]
    page = client.get(path)
    assert page.status_code == 200 and f'data-kind="{kind}"' in page.text and "No photos yet." in page.text
    csrf = csrf_from(client, path)
    sent = client.post(path, data={"csrf_token": csrf}, files={"photo": ("a.jpg", jpeg_with_gps(), "image/jpeg")},
                       follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == path
    gallery = client.get(path).text
    fulls = FULL.findall(gallery)
    assert len(fulls) == 1 and not has_gps(client.get(fulls[0]).content)
    assert _count(db, OwnerKind(kind)) == 1
    bad = client.post(path, data={"csrf_token": csrf}, files={"photo": ("x.jpg", b"GIF89a", "image/jpeg")})
    assert bad.status_code == 422 and 'data-code="image_invalid"' in bad.text
    photo_id = PHOTO.findall(gallery)[0]
    removed = client.post(f"{path}/{photo_id}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert removed.status_code == 303 and _count(db, OwnerKind(kind)) == 0


def test_a_photo_is_not_removed_through_another_owners_gallery(client, db, shop):
    log_in(client, db, shop.owner)
    paths = _galleries(shop)
    csrf = csrf_from(client, paths["product"])
    client.post(paths["product"], data={"csrf_token": csrf}, files={"photo": ("p.png", png(), "image/png")})
    photo_id = PHOTO.findall(client.get(paths["product"]).text)[0]
    wrong = client.post(f"{paths['service_item']}/{photo_id}/delete", data={"csrf_token": csrf})
    assert wrong.status_code == 404 and _count(db, OwnerKind.PRODUCT) == 1


def test_the_console_and_the_product_page_link_to_the_galleries(client, db, shop):
    log_in(client, db, shop.owner)
    items = client.get(f"/merchant/{shop.merchant.id}/items").text
    assert f'href="/merchant/items/{shop.item.id}/photos"' in items
    product = client.get(f"/p/{shop.product.id}").text
    assert f'href="/merchant/products/{shop.product.id}/photos"' in product
    client.cookies.clear()
    assert 'data-testid="manage-photos"' not in client.get(f"/p/{shop.product.id}").text


@pytest.mark.parametrize("kind", ["product", "service_item"])
def test_another_merchant_or_a_clerk_cannot_open_or_post(client, db, shop, kind):
    path = _galleries(shop)[kind]
    assert client.get(path, follow_redirects=False).status_code in (302, 303)  # anonymous: to the login
    rival = make_user(db, name="别家店主")
    make_merchant(db, rival, name="别家店")
    for who in (rival, shop.clerk):
        log_in(client, db, who)
        assert client.get(path).status_code == 403
        sent = client.post(path, data={"csrf_token": csrf_from(client, "/")},
                           files={"photo": ("p.png", png(), "image/png")})
        assert sent.status_code == 403
    assert _count(db, OwnerKind(kind)) == 0
