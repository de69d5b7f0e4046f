"""Illustrative photos for the demo city, drawn with Pillow (no downloads): a shopfront for each of the first
stores (its colours from its category, its shapes from a seeded generator) and a packshot for products.
The same seed draws the same pixels; the photos then go through media's ordinary pipeline (re-encoded,
thumbnailed, stored), like any upload."""

import hashlib
import io

import numpy as np
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.catalog.models import Product
from daodian.media import service as media
from daodian.media.images import Limits
from daodian.media.models import OwnerKind, Photo
from daodian.media.storage import Storage
from daodian.merchants.models import Store
from daodian.taxonomy.models import ServiceCategory

WIDTH, HEIGHT = 800, 600
DEFAULT_STORES, DEFAULT_PRODUCTS = 120, 60  # the first ones: the demo's pages show them; more is just bytes


def _palette(key: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Two colours that belong to a category: the same code, the same colours, on every machine."""
    digest = hashlib.sha256(key.encode()).digest()
    hue = digest[0] / 255

    def rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
        i, f = int(h * 6) % 6, h * 6 - int(h * 6)
        p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
        r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
        return int(r * 255), int(g * 255), int(b * 255)

    return rgb(hue, .55, .92), rgb((hue + .08) % 1, .75, .55)


def shopfront(seed: int, category_code: str) -> bytes:
    """A storefront: sky, building, a striped awning, door and windows, in the category's colours."""
    rng = np.random.default_rng(seed)
    light, dark = _palette(category_code.split(".")[0])
    image = Image.new("RGB", (WIDTH, HEIGHT), light)
    draw = ImageDraw.Draw(image)
    for y in range(0, HEIGHT // 2, 6):  # a soft sky gradient
        shade = int(235 - y / 3)
        draw.rectangle([0, y, WIDTH, y + 6], fill=(shade, shade, 255 - y // 6))
    left, right = int(rng.integers(40, 140)), WIDTH - int(rng.integers(40, 140))
    top = int(rng.integers(90, 180))
    draw.rectangle([left, top, right, HEIGHT - 40], fill=(245, 240, 232), outline=dark, width=6)
    awning_y = top + int(rng.integers(60, 110))
    stripes = int(rng.integers(6, 12))
    stripe = (right - left) / stripes
    for i in range(stripes):
        colour = dark if i % 2 == 0 else (255, 255, 255)
        draw.polygon([(left + i * stripe, awning_y), (left + (i + 1) * stripe, awning_y),
                      (left + (i + 1) * stripe - 8, awning_y + 50), (left + i * stripe - 8, awning_y + 50)], fill=colour)
    draw.rectangle([left + 30, top + 15, right - 30, awning_y - 15], fill=dark)  # the sign, without words
    door_w = int(rng.integers(90, 140))
    door_x = int(rng.integers(left + 40, right - 40 - door_w))
    draw.rectangle([door_x, awning_y + 90, door_x + door_w, HEIGHT - 40], fill=(90, 70, 60))
    for _ in range(int(rng.integers(1, 4))):
        wx = int(rng.integers(left + 30, right - 150))
        if abs(wx - door_x) < door_w + 20:
            continue
        draw.rectangle([wx, awning_y + 90, wx + 120, awning_y + 200], fill=(180, 215, 235), outline=dark, width=4)
    draw.rectangle([0, HEIGHT - 40, WIDTH, HEIGHT], fill=(120, 120, 125))  # the pavement
    return _png(image)


def packshot(seed: int, category_code: str) -> bytes:
    """A product on a plain backdrop: a bottle, a box or a tyre, in the category's colours."""
    rng = np.random.default_rng(seed)
    light, dark = _palette(category_code.split(".")[0])
    image = Image.new("RGB", (WIDTH, HEIGHT), (248, 248, 250))
    draw = ImageDraw.Draw(image)
    draw.ellipse([200, 500, 600, 560], fill=(225, 225, 230))  # the shadow
    kind = int(rng.integers(0, 3))
    if kind == 0:  # a bottle
        draw.rounded_rectangle([310, 180, 490, 520], radius=30, fill=dark)
        draw.rectangle([365, 110, 435, 180], fill=light)
        draw.rectangle([330, 300, 470, 420], fill=light)
    elif kind == 1:  # a box
        draw.polygon([(250, 250), (450, 200), (560, 260), (560, 500), (360, 540), (250, 480)], fill=light,
                     outline=dark)
        draw.polygon([(250, 250), (360, 300), (360, 540), (250, 480)], fill=dark)
    else:  # a tyre
        draw.ellipse([220, 120, 580, 520], fill=(40, 40, 44))
        draw.ellipse([320, 220, 480, 420], fill=light)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def add_photos(session: Session, storage: Storage, limits: Limits, *, seed: int, stores: int = DEFAULT_STORES,
               products: int = DEFAULT_PRODUCTS) -> int:
    """Photos for the first `stores` stores (two each) and `products` products (one each) that have none."""
    has = select(Photo.owner_id).where(Photo.owner_kind == OwnerKind.STORE).scalar_subquery()
    rows = session.execute(select(Store.id, ServiceCategory.code).join(ServiceCategory,
                                                                        ServiceCategory.id == Store.primary_category_id)
                           .where(Store.id.not_in(has)).order_by(Store.id).limit(stores)).all()
    added = 0
    for store_id, code in rows:
        for n in range(2):
            media.store_photo(session, storage, limits, OwnerKind.STORE, store_id,
                              shopfront(seed * 1_000_003 + store_id * 7 + n, code), uploaded_by=None)
            added += 1
    has = select(Photo.owner_id).where(Photo.owner_kind == OwnerKind.PRODUCT).scalar_subquery()
    for product_id, category_id in session.execute(select(Product.id, Product.category_id)
                                                   .where(Product.id.not_in(has)).order_by(Product.id).limit(products)):
        media.store_photo(session, storage, limits, OwnerKind.PRODUCT, product_id,
                          packshot(seed * 1_000_033 + product_id, str(category_id)), uploaded_by=None)
        added += 1
    return added
