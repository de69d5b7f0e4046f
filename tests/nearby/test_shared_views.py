"""The store views written with a snapshot (nearby.shared_views) make the very page the database's views make,
and give way to the database for a store changed since; a renamed category shows in them too."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from daodian.accounts.service import principal_for
from daodian.kit.clock import utcnow
from daodian.merchants import stores
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreStatus
from daodian.nearby.index import StoreIndex
from daodian.nearby.store_json import StoreJson
from daodian.taxonomy import editing
from daodian.taxonomy.models import ServiceCategory
from daodian.taxonomy.schemas import CategoryRename
from tests.factories import make_user
from tests.nearby.city import build_city
from tests.nearby.test_equivalence import queries


@pytest.fixture
def city(db):
    return build_city(db, stores=500)


@pytest.fixture
def mapped(db, city, tmp_path):
    return StoreIndex.from_snapshot(StoreIndex.build(db).write_snapshot(tmp_path / "db", db), db)


def pages(index, db, city, seed: int, n: int = 120):
    """(the page from the index's views, the page from views read from the database) per query that finds any."""
    for params in queries(city, seed, n):
        result = index.search(**params)
        if result.hits:
            yield (index.views.items_json(db, result.hits, result.slots, index.views.generation),
                   StoreJson().items_json(db, result.hits, result.slots, 0))


def test_the_shared_views_make_the_databases_page(db, city, mapped):
    asked = 0
    for shared, read in pages(mapped, db, city, seed=31):
        assert shared == read
        items = json.loads(shared)
        reads = stores.store_reads_by_id(db, [i["store"]["id"] for i in items],
                                         open_now={i["store"]["id"]: i["open_now"] for i in items})
        assert [i["store"] for i in items] == [r.model_dump(mode="json") for r in reads]
        asked += 1
    assert asked > 50
    assert len(mapped.views) == 0  # none was read from the database


def test_a_store_changed_since_the_snapshot_is_read_from_the_database(db, city, mapped):
    store_id = db.scalar(select(Store.id).join(Merchant, Merchant.id == Store.merchant_id)
                         .where(Store.status == StoreStatus.OPEN, Merchant.status == MerchantStatus.ACTIVE).limit(1))
    db.execute(update(Store).where(Store.id == store_id).values(name="改名后的店", updated_at=utcnow() + timedelta(seconds=1)))
    db.flush()
    mapped.refresh(db, force=True)
    slot = int(mapped.table.slots_of([store_id])[0])
    result = mapped.search(*mapped.table.col("lat")[slot:slot + 1].tolist(), *mapped.table.col("lng")[slot:slot + 1].tolist(),
                           10.0, category_ids=None, open_only=False, limit=50)
    assert store_id in [h.store_id for h in result.hits]
    page = json.loads(mapped.views.items_json(db, result.hits, result.slots, mapped.views.generation))
    assert next(i["store"]["name"] for i in page if i["store"]["id"] == store_id) == "改名后的店"
    assert list(mapped.views._kept) == [store_id]  # only it came from the database
    for shared, read in pages(mapped, db, city, seed=32):
        assert shared == read


def test_a_renamed_category_shows_in_the_shared_views(db, city, mapped):
    before = [shared for shared, _ in pages(mapped, db, city, seed=33, n=20)]
    code = json.loads(before[0])[0]["store"]["primary_category"]["code"]
    operator = principal_for(db, make_user(db, name="运营", operator=True))
    editing.rename_category(db, operator, ServiceCategory, code, CategoryRename(name_zh="改名后的服务", name_en="Renamed"))
    db.flush()
    mapped.views._shared._watch.next_check = 0  # ask at once rather than within taxonomy.watch's interval
    renamed = 0
    for shared, read in pages(mapped, db, city, seed=33, n=20):
        assert shared == read
        renamed += "改名后的服务" in shared.decode()
    assert renamed and before != [shared for shared, _ in pages(mapped, db, city, seed=33, n=20)]
