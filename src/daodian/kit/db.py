"""Database engine, declarative base and the unit of work.

The request, job or CLI command owns the transaction (`unit_of_work`); services only flush.
"""

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
    insert,
    inspect,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, mapped_column, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator

from daodian.kit.settings import Settings
from daodian.kit.sqlite_turns import TurnTakingConnection

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on every backend.

    SQLite keeps no offset, so values are normalised to UTC before storing and tagged on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments an `INTEGER PRIMARY KEY`; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")
IdPk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]

# Session info key: a context-manager factory that a writing unit of work holds for its whole transaction
# (kit.api.http puts SQLite's per-process write turn there for routes that run their own transactions).
WRITE_TURN = "daodian_write_turn"

# Session info key: lookups shared by the units of work of one batch (kit.api.group_commit) for its
# transaction's length; see `remembered`.
BATCH_MEMO = "daodian_batch_memo"
# Session info key: {kind: keys} that the units of a batch will look up (kit.db.gathered).
BATCH_WANTS = "daodian_batch_wants"

# Connection execution option read by the SQLite BEGIN hook: "IMMEDIATE" (default) takes the
# write lock up front so concurrent writers queue on busy_timeout instead of failing on upgrade.
BEGIN_MODE = "daodian_sqlite_begin"
# BEGIN_MODE of reads that need no transaction around their statements: no BEGIN at all, so each statement
# is its own (SQLite's autocommit), as PostgreSQL's reads at READ COMMITTED see a snapshot per statement; the
# BEGIN and the COMMIT were two more calls into SQLite per request, each a hand-over of the GIL.
STATEMENT_BY_STATEMENT = "NONE"


def create_db_engine(settings: Settings, **kwargs) -> Engine:
    # As many pooled connections as requests kit.api.http admits to their database phase at once (10), and as
    # many again for the read sessions kept lent-ready (kit.api.request_unit.ReadSessions): with fewer, the
    # extra ones were opened and closed per request under load (SQLite: with all its pragmas).
    kwargs.setdefault("pool_size", 20)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # Pooled connections move between the server's worker threads; SQLAlchemy serialises their use.
        # Writing transactions take turns on a lock file, across processes (kit.sqlite_turns).
        engine = create_engine(url, connect_args={"check_same_thread": False, "factory": TurnTakingConnection},
                               **kwargs)
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    # No pre-ping: it cost every checkout a round trip (a SELECT 1 before each request's first statement).
    # A connection the server closed (a restart) fails its request once, as a 503 (kit.api.error_handlers),
    # and SQLAlchemy then drops the whole pool, so the next requests connect afresh; connections are also
    # recycled hourly, before an idle timeout between here and the server could cut them.
    kwargs.setdefault("pool_recycle", 3600)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (savepoints work).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Straight to the driver: through exec_driver_sql (SQLAlchemy's whole execution path for one
        # statement that returns nothing) the BEGIN cost a read request about 6% of its time.
        mode = connection.get_execution_options().get(BEGIN_MODE, "IMMEDIATE")
        if mode == STATEMENT_BY_STATEMENT:
            return
        driver = connection.connection.driver_connection
        takes_turn = mode != "DEFERRED" and isinstance(driver, TurnTakingConnection)
        if takes_turn:
            driver.take_turn()  # the writers' turn first (kit.sqlite_turns), then SQLite's lock, at once
        try:
            driver.execute(_BEGIN[mode])
        except BaseException as exc:
            if takes_turn:
                driver.let_go()
            if isinstance(exc, sqlite3.OperationalError):  # "database is locked": SQLAlchemy's, so a 503
                raise OperationalError(_BEGIN[mode], (), exc) from exc  # like any statement's (kit.api)
            raise


_BEGIN = {"IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED", "EXCLUSIVE": "BEGIN EXCLUSIVE"}


def make_session_factory(bind) -> sessionmaker[Session]:
    # Objects stay readable after commit: responses are built from them once the request commits.
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


@contextmanager
def read_connection(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """A bare Core connection for one hot read (who is claiming, in a flash sale), where a Session's
    bookkeeping costs more than the read. A factory bound to a connection (the tests') reads on it."""
    bind = factory.kw["bind"]
    if isinstance(bind, Connection):
        yield bind
        return
    # One statement needs no transaction around it: on PostgreSQL, no BEGIN and ROLLBACK round trips.
    options = ({BEGIN_MODE: STATEMENT_BY_STATEMENT} if bind.dialect.name == "sqlite"
               else {"isolation_level": "AUTOCOMMIT"})
    with bind.connect().execution_options(**options) as connection:
        yield connection  # closed without commit: a read has nothing to keep


@contextmanager
def core_transaction(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """One writing transaction on a bare Core connection (a coupon claim: a few prepared statements, where
    a Session's bookkeeping cost more than they do): commit when the block succeeds, roll back when it
    raises. A factory bound to a connection (the tests') writes in a savepoint of its transaction."""
    bind = factory.kw["bind"]
    if isinstance(bind, Connection):
        with bind.begin_nested():
            yield bind
        return
    with bind.begin() as connection:
        yield connection


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, read_only: bool = False) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll back when it raises."""
    session = factory()
    turn: Callable[[], AbstractContextManager] | None = None if read_only else session.info.get(WRITE_TURN)
    with turn() if turn else nullcontext():
        if read_only:
            session.connection(execution_options={BEGIN_MODE: "DEFERRED"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def batch_memo(session: Session) -> dict[Any, Any] | None:
    """The lookups of the batch this session writes (kit.api.group_commit), or None outside a batch."""
    return session.info.get(BATCH_MEMO)


def remembered(session: Session, key: Any, load: Callable[[], T]) -> T:
    """`load()`, kept for the rest of the transaction when the session writes a batch: what many units of
    one batch look up alike (a store, which items it offers) is read once per commit, and held (the identity
    map alone would let an object go between units). Only for what the units do not change. Outside a batch
    it loads every time."""
    memo = session.info.get(BATCH_MEMO)
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


def gathered(session: Session, kind: str, key: Any, load_many: Callable[[set[Any]], Mapping[Any, Any]],
             keys_from: str | None = None) -> Any:
    """The value of `key` among `load_many(keys)`'s answers (None if absent). In a batch, the first unit to ask
    loads every key of this kind that the batch's units said they want (GroupCommit.run's `wants`), in one
    read, and the others find theirs in the memo: one query for sixteen clerks instead of sixteen.
    `keys_from` names another kind whose wanted keys are wanted of this one too: a domain reacting to another's
    event (a booking attended when its voucher is verified) reads for the keys that domain announced."""
    memo = session.info.get(BATCH_MEMO)
    if memo is None:
        return load_many({key}).get(key)
    found = memo.setdefault((BATCH_WANTS, kind), {})
    if key not in found:
        wants = session.info.get(BATCH_WANTS, {})
        keys = {key} | {k for k in wants.get(kind, ()) if k not in found}
        if keys_from is not None:
            keys |= {k for k in wants.get(keys_from, ()) if k not in found}
        loaded = load_many(keys)
        found.update({k: loaded.get(k) for k in keys})
    return found[key]


def want(session: Session, kind: str, keys: Iterable[Any]) -> None:
    """In a batch, more keys of `kind` its units will look up (learnt from an earlier gather: the orders of the
    vouchers found), read together when the first of them is asked for."""
    wants = session.info.get(BATCH_WANTS)
    if wants is not None:
        wants.setdefault(kind, set()).update(keys)


def gathered_so_far(session: Session, kind: str) -> dict[Any, Any] | None:
    """What the batch has gathered of `kind` (for a unit that changes it to keep it true), or None."""
    memo = session.info.get(BATCH_MEMO)
    return None if memo is None else memo.get((BATCH_WANTS, kind))


# Session info key: the INSERTs a batch (kit.api.group_commit) writes together just before its commit.
BATCH_INSERTS = "daodian_batch_inserts"


class Inserted:
    """A row given to `insert_later`; its `id` once written. `row` may be a function giving the row when it
    is written (a fact naming the id of a row inserted before it)."""

    __slots__ = ("statement", "row", "id")

    def __init__(self, statement: Any, row: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> None:
        self.statement, self.row, self.id = statement, row, None


def insert_later(session: Session, statement: Any, row: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> Inserted:
    """INSERT `row` with `statement` (an `insert(table)`; for an `id`, `.returning(table.c.id,
    sort_by_parameter_order=True)`). In a batch, the rows of each statement are written in one executemany at
    its end, before the commit (statements in the order they first came: `write_inserts`); outside a batch, at
    once. Only for rows no unit of a batch reads back; a unit reads an id only in what it gives `after_writes`."""
    item = Inserted(statement, row)
    pending = session.info.get(BATCH_INSERTS)
    if pending is None:
        _write(session.connection(), statement, [item])
    else:
        pending.append(item)
    return item


def write_inserts(session: Session) -> None:
    """A batch's rows given to `insert_later`, one executemany per statement (GroupCommit, before commit)."""
    pending: list[Inserted] = session.info.get(BATCH_INSERTS) or []
    session.info[BATCH_INSERTS] = []
    by_statement: dict[int, tuple[Any, list[Inserted]]] = {}
    for item in pending:
        by_statement.setdefault(id(item.statement), (item.statement, []))[1].append(item)
    connection = session.connection()
    for statement, items in by_statement.values():
        _write(connection, statement, items)


def _write(connection: Connection, statement: Any, items: list[Inserted]) -> None:
    rows = [item.row() if callable(item.row) else item.row for item in items]
    if statement._returning:  # `returning(table.c.id, sort_by_parameter_order=True)`: ids in the rows' order
        for item, id_ in zip(items, connection.execute(statement, rows).scalars().all(), strict=True):
            item.id = id_
    else:
        connection.execute(statement, rows)


class AfterWrites:
    """A unit's answer that needs what the batch writes at its end (`after_writes`)."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build


def after_writes(session: Session, build: Callable[[], T]) -> T:
    """`build()`, once the rows given to `insert_later` are written: at once outside a batch, at the batch's end
    in one (GroupCommit resolves it)."""
    return build() if session.info.get(BATCH_INSERTS) is None else AfterWrites(build)  # type: ignore[return-value]


def insert_loaded(session: Session, obj: Any) -> None:
    """INSERT a new mapped object (an `id` primary key) with one Core statement, its id back by RETURNING, and make
    it a persistent object of the session, loaded as written: what flushing it does, for a fraction of what the
    ORM's flush of one object costs (the paid-order path writes several). Columns left unset take their Python
    default (in memory too); without one they are left out of the INSERT (NULL, as a flush leaves them) and read
    None. Changes made to it afterwards are flushed as usual."""
    mapper = inspect(obj).mapper
    table, values, unset = mapper.local_table, {}, []
    for column in table.columns:
        if column.key == "id":
            continue
        key = mapper.get_property_by_column(column).key
        if key not in obj.__dict__:
            default = column.default
            if default is None:
                unset.append(key)
                continue
            setattr(obj, key, default.arg(None) if default.is_callable else default.arg)
        values[column.key] = obj.__dict__[key]
    obj.id = session.execute(_inserts_returning_id(table), values).scalar_one()
    make_transient_to_detached(obj)
    session.add(obj)
    for key in unset:
        set_committed_value(obj, key, None)


@cache
def _inserts_returning_id(table) -> Any:
    return insert(table).returning(table.c.id)


def insert_unless_taken(session: Session, table: Any, unique_columns: tuple[str, ...], values: Mapping[str, Any]
                        ) -> int | None:
    """INSERT … ON CONFLICT (unique_columns) DO NOTHING RETURNING id: the new row's id, or None when a row with
    the same unique key exists. Unlike check-then-insert it holds under concurrency without a savepoint: on
    PostgreSQL the loser waits for the winner's commit and then inserts nothing, instead of failing on the
    unique index. The statement is built once per table, key and database."""
    statement = _insert_unless_taken(table, unique_columns, session.get_bind().dialect.name)
    return session.execute(statement, dict(values)).scalar_one_or_none()


@cache
def _insert_unless_taken(table: Any, unique_columns: tuple[str, ...], dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(unique_columns)).returning(table.c.id)
