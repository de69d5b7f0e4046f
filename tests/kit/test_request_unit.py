"""A request's unit of work (kit.api.request_unit): reads statement by statement, writes in one transaction."""

from sqlalchemy import text

from daodian.kit.api.request_unit import RequestUnit
from daodian.kit.db import make_session_factory


def _in_transaction(session) -> bool:
    """Whether the database connection itself is inside a transaction (not SQLAlchemy's bookkeeping)."""
    driver = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "sqlite":
        return driver.in_transaction
    return driver.info.transaction_status != 0  # psycopg: 0 is IDLE, outside any transaction


def test_a_read_request_runs_no_transaction_and_a_write_request_one(engine):
    factory = make_session_factory(engine)
    read = RequestUnit(factory, read_only=True)
    assert read.session.execute(text("SELECT 1")).scalar_one() == 1
    assert not _in_transaction(read.session)  # no BEGIN sent: no round trip, no lock
    read.end(failed=False)

    write = RequestUnit(factory, read_only=False)
    write.session.execute(text("SELECT 1"))
    assert _in_transaction(write.session)  # SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN
    write.end(failed=False)


def test_a_connection_after_a_read_request_begins_transactions_again(engine):
    """The reading twin's options stay on its own connections' checkouts: the pool hands out plain ones after."""
    factory = make_session_factory(engine)
    for _ in range(3):
        read = RequestUnit(factory, read_only=True)
        read.session.execute(text("SELECT 1"))
        read.end(failed=False)
    with factory() as session:
        session.execute(text("SELECT 1"))
        assert _in_transaction(session)
        session.rollback()
