"""A small catalogue and some stores around the shopper, arranged before the app (and its index) starts."""

from dataclasses import dataclass

import pytest

from daodian.catalog import service as catalog
from daodian.catalog.models import Product
from daodian.catalog.schemas import ProductCreate, SkuCreate
from daodian.geo.datum import Datum, from_wgs84
from daodian.merchants.models import Merchant, Store
from daodian.nearby import process as nearby_process
from daodian.taxonomy.models import CatalogStatus
from tests.factories import make_merchant, make_store, make_user

HERE = (30.2500, 120.1500)  # the shopper, WGS-84
METRES_PER_DEGREE = 111_195.0


def add_product(db, merchant: Merchant, category: str, name_zh: str, name_en: str | None = None, *,
                spec: str = "", price_fen: int = 19900) -> Product:
    return catalog.create_product(db, merchant.id, ProductCreate(
        category=category, name_zh=name_zh, name_en=name_en,
        skus=[SkuCreate(code="std", spec_zh=spec, price_fen=price_fen)]))


def store_north(db, merchant: Merchant, metres: float, name: str, category: str) -> Store:
    lat, lng = from_wgs84(HERE[0] + metres / METRES_PER_DEGREE, HERE[1], Datum.GCJ02)
    return make_store(db, merchant, name=name, lat=lat, lng=lng, datum="gcj02", category=category)


@dataclass
class World:
    owner_id: int
    merchant: Merchant
    tyre: Product
    oil: Product
    speaker: Product
    hidden: Product
    tyre_near: Store
    tyre_far: Store
    oil_shop: Store


@pytest.fixture
def world(db) -> World:
    owner = make_user(db, name="店主")
    merchant = make_merchant(db, owner, name="好物商城")
    tyre = add_product(db, merchant, "auto.tyre", "米其林轮胎 205/55R16", "Michelin tyre 205/55R16")
    oil = add_product(db, merchant, "auto.oil", "全合成机油 5W-30", "Synthetic motor oil 5W-30", spec="4L")
    speaker = add_product(db, merchant, "av.speaker", "蓝牙音箱", "Bluetooth speaker")
    hidden = add_product(db, merchant, "auto.tyre", "停售轮胎", "Discontinued tyre")
    hidden.status = CatalogStatus.HIDDEN
    garage = make_merchant(db, make_user(db), name="途虎养车")
    tyre_far = store_north(db, garage, 2500, "轮胎远店", "auto_service.tyre_fitting")
    tyre_near = store_north(db, garage, 600, "轮胎近店", "auto_service.tyre_fitting")
    oil_shop = store_north(db, garage, 900, "保养店", "auto_service.oil_change")
    db.flush()
    return World(owner.id, merchant, tyre, oil, speaker, hidden, tyre_near, tyre_far, oil_shop)


@pytest.fixture
def api(world, client, app):
    """The client, started after `world` exists, so the indexes built at start-up hold it."""
    nearby_process.index_for(app.state, None).freshness.interval_s = 0
    return client
