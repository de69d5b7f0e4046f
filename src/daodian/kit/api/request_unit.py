"""A request's unit of work, made and ended where it costs no thread hop of its own (kit.api.http.DbSession)."""

from collections import deque
from contextvars import ContextVar
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from daodian.kit.db import BEGIN_MODE, STATEMENT_BY_STATEMENT, WRITE_TURN
from daodian.kit.worker_threads import run_sync

# How many read sessions (kit.api.http.DB_CONCURRENCY admits 10 requests to their database phase) stay lent-ready
# per engine; the engine's pool keeps room for them beside the writers' (kit.db.create_db_engine).
IDLE_READERS = 10


class ReadSessions:
    """Sessions for read requests (GET, HEAD, OPTIONS), each on a connection of its own that it keeps, lent to
    one request at a time and taken back after it.

    A read runs each statement on its own, no transaction around them. On PostgreSQL (AUTOCOMMIT) that sees
    what a transaction at READ COMMITTED would have seen, every statement its own snapshot, without the BEGIN
    and COMMIT round trips (GET /api/v1/health: three round trips became one); SQLite reads the same way
    (kit.db.STATEMENT_BY_STATEMENT) and takes no write lock. Such a connection holds nothing between
    requests, so keeping it costs nothing, while getting one per request did: a Session made, a connection
    checked out of the pool and wrapped, both given back, about a sixth of GET /api/v1/health's time.

    Each connection is kept inside a transaction that is one in name only (`begin()` sends nothing: no BEGIN on
    either database in these modes), and its session joins it (join_transaction_mode="rollback_only"): the
    session's commit then leaves it alone, so a request costs no begin and no commit of SQLAlchemy's, which
    were a sixth of GET /api/v1/health's time once the rest was lean. A route that raised rolls it back (that
    too sends nothing); it is begun again when the session comes back.

    A session comes back only as it left: its commit or rollback went through, nothing is in its `info` (a
    hook for commits to count, a batch memo: they belong to one request), its connection is open and valid,
    and no savepoint is left open on it. Anything else is closed, and the next request gets a new one."""

    def __init__(self, factory: sessionmaker[Session], engine: Engine) -> None:
        self.engine = engine
        options = ({BEGIN_MODE: STATEMENT_BY_STATEMENT} if engine.dialect.name == "sqlite"
                   else {"isolation_level": "AUTOCOMMIT"})
        self.reading = engine.execution_options(**options)
        self.factory = factory
        self.idle: deque[Session] = deque()

    def lend(self) -> Session:
        try:
            return self.idle.pop()  # the most recent: its connection is the warmest
        except IndexError:
            connection = self.reading.connect()
            connection.begin()
            return self.factory(bind=connection, join_transaction_mode="rollback_only")

    def take_back(self, session: Session, *, reusable: bool) -> None:
        connection = session.bind
        if reusable and not session.info and not connection.closed and not connection.invalidated \
                and not connection.in_nested_transaction() and len(self.idle) < IDLE_READERS:
            if not connection.in_transaction():  # the route raised: its rollback ended the nominal one
                connection.begin()
            self.idle.append(session)
        else:
            connection.close()

    def close(self) -> None:
        """Close every idle session's connection (the app is stopping: the engine is about to be disposed)."""
        while self.idle:
            self.idle.pop().bind.close()


_READERS: dict[int, ReadSessions] = {}  # id(engine) -> its lent read sessions; a few engines per process


def readers_of(factory: sessionmaker[Session], engine: Engine) -> ReadSessions:
    known = _READERS.get(id(engine))
    if known is None or known.engine is not engine or known.factory is not factory:
        known = _READERS[id(engine)] = ReadSessions(factory, engine)
    return known


def close_readers(engine: Engine) -> None:
    known = _READERS.pop(id(engine), None)
    if known is not None and known.engine is engine:
        known.close()


class RequestUnit:
    """A request's unit of work, as kit.db.unit_of_work has it (commit when the route succeeds, roll back when
    it raises), cut in two so that neither half costs a thread hop of its own: the session is made in the
    event loop (making one does no I/O; it connects at its first statement, in the route's worker thread),
    and the transaction ends in the thread that ran the route (kit.api.one_hop) or, for a route run
    otherwise, at the dependency's exit.

    Reads (GET, HEAD, OPTIONS) borrow a session of `ReadSessions`, each statement on its own;
    everything else is one transaction, on SQLite locked up front (kit.db). The request's session factory puts
    no write turn in its sessions (that is transaction_factory's), so unit_of_work's WRITE_TURN has nothing to
    do here."""

    def __init__(self, factory: sessionmaker[Session], *, read_only: bool) -> None:
        bind = factory.kw.get("bind")
        self.readers: ReadSessions | None = None
        if read_only and isinstance(bind, Engine):
            self.readers = readers_of(factory, bind)
            self.session = self.readers.lend()
        else:  # writes, and a factory bound to a connection (the tests'), which issues no BEGIN of its own
            self.session = factory()
        assert WRITE_TURN not in self.session.info, "a request's session is not transaction_factory's"
        self.ended = False

    async def exit(self, exc_type: type[BaseException] | None, *_exc: object) -> bool:
        """End the unit from the event loop (an exit callback of the request's function-scope stack), unless the
        route's thread did: there, when it has no transaction to end (the route ran its own, or committed, or
        read nothing), as closing it then does no I/O; else in a worker thread. Never swallows the error."""
        failed = exc_type is not None
        if self.ended:
            return False
        if self.session.in_transaction():
            await run_sync(partial(self.end, failed=failed))
        else:
            self.end(failed=failed)
        return False

    def end(self, *, failed: bool) -> None:
        """Commit (roll back when `failed`) and close, once; in a worker thread: both may do I/O."""
        if self.ended:
            return
        self.ended = True
        session = self.session
        ended_well = False  # a route that raised ends well too once its rollback did: a read leaves nothing open
        try:
            if failed:
                session.rollback()
            else:
                session.commit()
            ended_well = True
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if self.readers is not None:
                self.readers.take_back(session, reusable=ended_well)


# The unit of the request being served, for the code that ends it in the route's worker thread. Set in the
# request's task; worker threads run in a copy of its context.
CURRENT_UNIT: ContextVar[RequestUnit | None] = ContextVar("daodian_request_unit", default=None)
