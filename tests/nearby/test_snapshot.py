"""The nearby index written to a snapshot and mapped back answers as the index it came from; a server
process maps the snapshot of its database while it is still good, and builds a new one when not."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from daodian.kit.clock import utcnow
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreStatus
from daodian.nearby import index as nearby
from daodian.nearby import loader, snapshot
from daodian.nearby.index import StoreIndex, open_index
from tests.nearby.city import build_city
from tests.nearby.reference import Everyone, answer
from tests.nearby.test_equivalence import assert_same_answers, queries
from tests.support.databases import drop_database, prepare_database


def test_a_mapped_snapshot_answers_like_its_index(db, tmp_path):
    city = build_city(db)
    built = StoreIndex.build(db)
    path = built.write_snapshot(tmp_path / "db", db)
    mapped = StoreIndex.from_snapshot(path, db)
    assert mapped.snapshot == path.name and len(mapped) == len(built)
    assert mapped.table.col("lat").base is not None  # a view of the mapped file, not a copy
    for params in queries(city, seed=11, n=150):
        assert answer(mapped.search(**params)) == answer(built.search(**params)), params
    # It catches up like any index: a change since is searched beside the mapped postings.
    store_id = db.scalar(select(Store.id).join(Merchant, Merchant.id == Store.merchant_id)
                         .where(Store.status == StoreStatus.OPEN, Merchant.status == MerchantStatus.ACTIVE).limit(1))
    db.execute(update(Store).where(Store.id == store_id).values(rating_avg=5.0, rating_count=9000,
                                                                  updated_at=utcnow() + timedelta(seconds=1)))
    db.flush()
    mapped.refresh(db, force=True)
    assert len(mapped.delta) == 1 and mapped.delta.dead_count == 1
    assert_same_answers(mapped, db, city, seed=12, n=100)


@pytest.fixture
def database(backend, tmp_path):
    settings = prepare_database(backend, "daodian_test_nearby_snapshot", tmp_path)
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()
    drop_database(settings)


def opened(engine, directory):
    with unit_of_work(make_session_factory(engine), read_only=True) as session:
        return open_index(session, directory=directory, min_stores=0)


def test_server_processes_map_the_snapshot_while_it_is_good(database, tmp_path, monkeypatch):
    with unit_of_work(make_session_factory(database)) as session:
        city = build_city(session, stores=400)
    first = opened(database, tmp_path)  # the first process builds and writes it
    assert first.snapshot is not None
    again = opened(database, tmp_path)  # the next ones map it
    assert again.snapshot == first.snapshot

    with unit_of_work(make_session_factory(database)) as session:  # a few changes: mapped, then caught up
        session.execute(update(Store).where(Store.id <= 3).values(status="paused", updated_at=utcnow()))
    caught_up = opened(database, tmp_path)
    assert caught_up.snapshot == first.snapshot and int(caught_up.delta.dead.sum()) == 3
    with unit_of_work(make_session_factory(database), read_only=True) as session:
        everyone = Everyone.read(session)
        for params in queries(city, seed=13, n=60):
            assert answer(caught_up.search(**params)) == everyone.search(**params)

    monkeypatch.setattr(nearby, "_REBUILD_MIN", 5)  # many changes: catching up would cost more than building
    with unit_of_work(make_session_factory(database)) as session:
        session.execute(update(Store).where(Store.id <= 50).values(popularity=1, updated_at=utcnow()))
    rebuilt = opened(database, tmp_path)
    assert rebuilt.snapshot not in (None, first.snapshot) and len(rebuilt.delta) == 0

    # A database put back to an earlier state (its newest store now stamped earlier) is not the one the
    # snapshot was taken of: built anew, whatever the count of changes says.
    with unit_of_work(make_session_factory(database)) as session:
        newest = session.execute(loader.newest_store()).first()
        session.execute(update(Store).where(Store.id == newest[0]).values(updated_at=newest[1] - timedelta(days=1)))
    restored = opened(database, tmp_path)
    assert restored.snapshot not in (None, rebuilt.snapshot)
    with unit_of_work(make_session_factory(database), read_only=True) as session:
        kept = list((tmp_path / snapshot.database_key(session)).glob("snapshot-*"))
    assert len(kept) == snapshot.KEEP

