"""A request's unit of work, made and ended where it costs no thread hop of its own (kit.api.http.DbSession)."""

from contextvars import ContextVar
from functools import partial

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from daodian.kit.db import BEGIN_MODE, STATEMENT_BY_STATEMENT, WRITE_TURN

_READING_BINDS: dict[int, tuple[Engine, Engine]] = {}  # id(engine) -> (engine, its reading twin); a few


def _reading_bind(engine: Engine) -> Engine:
    """The engine a read request's session uses: each statement on its own, no transaction around them. On
    PostgreSQL (AUTOCOMMIT) that sees what a transaction at READ COMMITTED would have seen, every statement its
    own snapshot, without the BEGIN and COMMIT round trips (GET /api/v1/health: three round trips became one);
    SQLite reads the same way (kit.db.STATEMENT_BY_STATEMENT), and takes no write lock."""
    known = _READING_BINDS.get(id(engine))
    if known is None or known[0] is not engine:
        options = ({BEGIN_MODE: STATEMENT_BY_STATEMENT} if engine.dialect.name == "sqlite"
                   else {"isolation_level": "AUTOCOMMIT"})
        known = _READING_BINDS[id(engine)] = (engine, engine.execution_options(**options))
    return known[1]


class RequestUnit:
    """A request's unit of work, as kit.db.unit_of_work has it (commit when the route succeeds, roll back when
    it raises), cut in two so that neither half costs a thread hop of its own: the session is made in the
    event loop (making one does no I/O; it connects at its first statement, in the route's worker thread),
    and the transaction ends in the thread that ran the route (kit.api.one_hop) or, for a route run
    otherwise, at the dependency's exit.

    Reads (GET, HEAD, OPTIONS) run each statement on its own (`_reading_bind`), on SQLite taking no write lock;
    everything else is one transaction, on SQLite locked up front (kit.db). The request's session factory puts
    no write turn in its sessions (that is transaction_factory's), so unit_of_work's WRITE_TURN has nothing to
    do here."""

    def __init__(self, factory: sessionmaker[Session], *, read_only: bool) -> None:
        bind = factory.kw.get("bind")
        if read_only and isinstance(bind, Engine):
            self.session = factory(bind=_reading_bind(bind))
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
            await anyio.to_thread.run_sync(partial(self.end, failed=failed))
        else:
            self.end(failed=failed)
        return False

    def end(self, *, failed: bool) -> None:
        """Commit (roll back when `failed`) and close, once; in a worker thread: both may do I/O."""
        if self.ended:
            return
        self.ended = True
        session = self.session
        try:
            if failed:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


# The unit of the request being served, for the code that ends it in the route's worker thread. Set in the
# request's task; worker threads run in a copy of its context.
CURRENT_UNIT: ContextVar[RequestUnit | None] = ContextVar("daodian_request_unit", default=None)
