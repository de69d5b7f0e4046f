"""The demo city's photos: drawn by Pillow from a seed (same seed, same pixels), stored like uploads."""

import io

from PIL import Image

from daodian.demo import images
from daodian.kit.settings import Settings
from daodian.media import service as media
from daodian.media.models import OwnerKind
from daodian.media.storage import LocalStorage


def test_the_same_seed_draws_the_same_picture():
    assert images.shopfront(7, "auto_service.car_wash") == images.shopfront(7, "auto_service.car_wash")
    assert images.shopfront(7, "auto_service.car_wash") != images.shopfront(8, "auto_service.car_wash")
    assert images.packshot(3, "12") == images.packshot(3, "12")
    with Image.open(io.BytesIO(images.shopfront(1, "food.hotpot"))) as drawn:
        assert drawn.size == (images.WIDTH, images.HEIGHT) and len(set(drawn.getdata())) > 10


def test_photos_for_stores_and_products_that_have_none(db, shop, tmp_path):
    storage = LocalStorage(tmp_path)
    limits = media.limits_of(Settings())
    added = images.add_photos(db, storage, limits, seed=1, stores=5, products=5)
    store_photos = media.photos_of(db, OwnerKind.STORE, [shop.store.id])[shop.store.id]
    product_photos = media.photos_of(db, OwnerKind.PRODUCT, [shop.product.id])[shop.product.id]
    assert len(store_photos) == 2 and len(product_photos) == 1 and added >= 3
    assert storage.get(store_photos[0].url.removeprefix("/media/")) is not None
    assert images.add_photos(db, storage, limits, seed=1, stores=5, products=5) == 0  # nothing left without
