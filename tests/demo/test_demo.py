"""A small demo city on the test database: complete, plausible, and the same for the same seed."""

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select

from daodian.accounts import service as accounts
from daodian.accounts.models import StaffMembership, User
from daodian.catalog.models import Product, Sku
from daodian.demo import bulk, city
from daodian.demo.bulk import BulkWriter
from daodian.demo.generate import build_demo_city, has_merchants
from daodian.demo.layout import TooFewStores
from daodian.demo.people import DEMO_PASSWORD
from daodian.geo.datum import Datum, from_wgs84_arrays
from daodian.kit.errors import Conflict
from daodian.merchants import stores as store_service
from daodian.merchants.models import Merchant, ServiceItem, Store, StoreCategory, StoreItem
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from daodian.taxonomy.tree import PRODUCT_TREE, SERVICE_TREE, walk
from tests.factories import make_merchant, make_user

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
SMALL = dict(stores=300, consumers=200, seed=7, now=NOW)


def leaves(tree) -> set[str]:
    return {node.code for node, *_ in walk(tree) if not node.children}


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def city_result(db):
    return build_demo_city(db, **SMALL)


def test_counts_match_the_request(db, city_result):
    assert count(db, Store) == city_result.counts["stores"] == 300
    assert count(db, User) == city_result.counts["users"] == 205
    assert count(db, Product) >= 240
    assert count(db, StoreItem) == city_result.counts["store_service_items"] > 300
    assert count(db, StoreCategory) >= 300


def test_every_leaf_category_is_stocked(db, city_result):
    primary = set(db.scalars(select(ServiceCategory.code).join(Store, Store.primary_category_id == ServiceCategory.id)))
    assert primary == leaves(SERVICE_TREE)
    with_products = set(db.scalars(select(ProductCategory.code).join(Product, Product.category_id == ProductCategory.id)))
    assert with_products == leaves(PRODUCT_TREE)
    per_product = list(db.scalars(select(func.count()).select_from(Sku).group_by(Sku.product_id)))
    assert len(per_product) == count(db, Product) and max(per_product) <= 4
    assert db.scalar(select(func.min(Sku.price_fen))) > 0


def test_stores_stand_in_hangzhou_and_open_sensibly(db, city_result):
    stores = db.scalars(select(Store)).all()
    lat, lng = from_wgs84_arrays([s.lat for s in stores], [s.lng for s in stores], Datum.GCJ02)
    assert city.in_bbox(lat, lng).all() and not city.in_water(lat, lng).any()
    assert np.allclose(lat, [s.input_lat for s in stores], atol=1e-6)
    assert {s.input_datum for s in stores} == {"gcj02"}
    assert {s.timezone for s in stores} == {"Asia/Shanghai"}
    for store in stores:
        store_service.opening_hours(store)  # raises if the API would refuse these hours
        assert store.hours and 3.0 <= store.rating_avg <= 5.0 and store.rating_count >= 1
        assert store.created_at <= store.updated_at <= NOW
    past_midnight = [s for s in stores if any(close > 1440 for _, _, close in s.hours)]
    assert past_midnight  # KTV, massage, late hotpot


def test_chains_share_a_merchant_and_brand(db, city_result):
    chain_stores = db.scalars(select(Store).where(Store.merchant_id == city_result.chain_merchant_id)).all()
    assert len(chain_stores) >= 3
    merchant = db.get(Merchant, city_result.chain_merchant_id)
    assert merchant.name == "驰安养车"
    assert all(s.name.startswith("驰安养车·") and s.name.endswith("店") for s in chain_stores)
    items = db.scalars(select(ServiceItem).where(ServiceItem.merchant_id == merchant.id)).all()
    offered = set(db.execute(select(StoreItem.store_id, StoreItem.item_id)
                             .where(StoreItem.item_id.in_([i.id for i in items]))))
    assert offered == {(s.id, i.id) for s in chain_stores for i in items}
    assert {s.merchant_id for s in db.scalars(select(Store))} > {merchant.id}  # and many single-store merchants


def test_demo_logins_work(db, city_result):
    roles = {login.role: login for login in city_result.logins}
    operator = accounts.authenticate(db, phone=roles["operator"].phone, password=DEMO_PASSWORD)
    assert operator.is_operator
    staff = dict(db.execute(select(User.phone, StaffMembership.role).join(StaffMembership)
                            .where(StaffMembership.merchant_id == city_result.chain_merchant_id)).all())
    assert staff == {roles[r].phone: r for r in ("owner", "manager", "clerk")}
    consumer = accounts.authenticate(db, phone=roles["consumer"].phone, password=DEMO_PASSWORD)
    assert not consumer.is_operator
    hashes = set(db.scalars(select(User.password_hash)))
    assert len(hashes) == 1  # hashed once for everyone


def fingerprint(db) -> tuple:
    stores = db.execute(select(Store.name, Store.address, Store.input_lat, Store.input_lng, Store.hours,
                               Store.primary_category_id, Store.rating_avg).order_by(Store.id)).all()
    items = db.execute(select(ServiceItem.name_zh, ServiceItem.price_fen).order_by(ServiceItem.id)).all()
    phones = db.scalars(select(User.phone).order_by(User.id)).all()
    return [tuple(map(str, s)) for s in stores], items, phones


def test_same_seed_same_city(db):
    prints = []
    for seed in (7, 7, 8):
        nested = db.begin_nested()
        build_demo_city(db, **{**SMALL, "seed": seed})
        prints.append(fingerprint(db))
        nested.rollback()
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


def test_a_second_city_is_refused_and_if_empty_sees_merchants(db):
    assert not has_merchants(db)
    make_merchant(db, make_user(db))
    assert has_merchants(db)
    build_demo_city(db, **SMALL)  # next to other merchants is fine
    with pytest.raises(Conflict):
        build_demo_city(db, **SMALL)  # the demo logins exist already


def test_too_small_a_city_is_refused(db):
    with pytest.raises(TooFewStores):
        build_demo_city(db, stores=10, consumers=0)


def test_a_big_load_puts_back_the_same_indexes_and_keys(db, monkeypatch):
    tables = [Merchant.__table__, Store.__table__, StoreCategory.__table__, ServiceItem.__table__, StoreItem.__table__]
    writer = BulkWriter(db.connection())
    before = [(writer.foreign_keys(t), writer.indexes(t)) for t in tables]
    assert any(indexes for _, indexes in before)
    monkeypatch.setattr(bulk, "REBUILD_FROM", 1)  # as if every table received a million rows
    result = build_demo_city(db, **SMALL)
    assert [(writer.foreign_keys(t), writer.indexes(t)) for t in tables] == before
    assert count(db, Store) == result.counts["stores"]


def test_timestamps_are_written_as_sqlalchemy_writes_them():
    values = np.array(["2026-05-01T08:00:00", "1999-12-31T23:59:59.123456"], dtype="datetime64[us]")
    assert bulk.utc_strings(values) == ["2026-05-01 08:00:00.000000", "1999-12-31 23:59:59.123456"]
    assert bulk.utc_strings(values[:1], "+00") == ["2026-05-01 08:00:00.000000+00"]
