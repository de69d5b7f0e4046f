"""Reading the facts outbox by cursor (kit.outbox): every fact once, in order, even with runs in parallel."""

import threading
import uuid

import pytest

from daodian.kit import outbox
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact, append_fact


def test_a_consumer_reads_each_fact_once_in_id_order(db, session_factory):
    name = f"test-{uuid.uuid4().hex[:8]}"
    with unit_of_work(session_factory) as session:
        outbox.sync(session, name, session.query(Fact.id).order_by(Fact.id.desc()).limit(1).scalar() or 0)
    ids = [append_fact(db, "test.happened", {"n": n}).id for n in range(7)]
    db.commit()
    seen: list[int] = []
    assert outbox.consume(session_factory, name, lambda session, facts: seen.extend(f.id for f in facts),
                          batch=3) == 7
    assert seen == ids
    assert outbox.consume(session_factory, name, lambda session, facts: seen.extend(f.id for f in facts)) == 0
    with unit_of_work(session_factory, read_only=True) as session:
        assert outbox.position(session, name) == ids[-1]
        assert outbox.lag(session)[name] == 0


def test_a_cursor_moved_by_another_run_is_refused(db):
    name = f"test-{uuid.uuid4().hex[:8]}"
    outbox.sync(db, name, 5)
    outbox.advance(db, name, from_position=5, to_position=9)
    with pytest.raises(outbox.CursorMoved):
        outbox.advance(db, name, from_position=5, to_position=7)
    assert outbox.position(db, name) == 9


def test_a_handler_failure_leaves_the_cursor_where_it_was(db, session_factory):
    name = f"test-{uuid.uuid4().hex[:8]}"
    with unit_of_work(session_factory) as session:
        start = session.query(Fact.id).order_by(Fact.id.desc()).limit(1).scalar() or 0
        outbox.sync(session, name, start)
    append_fact(db, "test.happened", {})
    db.commit()

    def fail(session, facts):
        raise RuntimeError("receiver down")

    with pytest.raises(RuntimeError):
        outbox.consume(session_factory, name, fail)
    with unit_of_work(session_factory, read_only=True) as session:
        assert outbox.position(session, name) == start


def test_parallel_runs_of_one_consumer_hand_out_every_fact_exactly_once(live_server):
    """Two threads on a real database, each in its own transactions: no fact twice, none missed."""
    factory, name = live_server.session_factory, f"test-{uuid.uuid4().hex[:8]}"
    with unit_of_work(factory) as session:
        start = session.query(Fact.id).order_by(Fact.id.desc()).limit(1).scalar() or 0
        outbox.sync(session, name, start)
        ids = [append_fact(session, "test.parallel", {"n": n}).id for n in range(300)]
    seen: list[int] = []
    lock = threading.Lock()

    def handle(session, facts):
        with lock:
            seen.extend(f.id for f in facts)

    threads = [threading.Thread(target=outbox.consume, args=(factory, name, handle), kwargs={"batch": 7})
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == seen == ids
