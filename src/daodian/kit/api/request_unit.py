"""A request's unit of work, made and ended where it costs no thread hop of its own (kit.api.http.DbSession)."""

from contextvars import ContextVar
from functools import partial

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from daodian.kit.db import BEGIN_MODE, WRITE_TURN

_DEFERRED_BINDS: dict[int, tuple[Engine, Engine]] = {}  # id(engine) -> (engine, its reading twin); a few


def _reading_bind(engine: Engine) -> Engine:
    """The engine whose connections begin SQLite transactions DEFERRED: a read takes no write lock."""
    known = _DEFERRED_BINDS.get(id(engine))
    if known is None or known[0] is not engine:
        known = _DEFERRED_BINDS[id(engine)] = (engine, engine.execution_options(**{BEGIN_MODE: "DEFERRED"}))
    return known[1]


class RequestUnit:
    """A request's unit of work, as kit.db.unit_of_work has it (commit when the route succeeds, roll back when
    it raises), cut in two so that neither half costs a thread hop of its own: the session is made in the
    event loop (making one does no I/O; it connects at its first statement, in the route's worker thread),
    and the transaction ends in the thread that ran the route (kit.api.one_hop) or, for a route run
    otherwise, at the dependency's exit.

    Reads (GET, HEAD, OPTIONS) on SQLite begin DEFERRED, taking no write lock; everything else locks up front
    (kit.db). The request's session factory puts no write turn in its sessions (that is transaction_factory's),
    so unit_of_work's WRITE_TURN has nothing to do here."""

    def __init__(self, factory: sessionmaker[Session], *, read_only: bool) -> None:
        bind = factory.kw.get("bind")
        if read_only and isinstance(bind, Engine) and bind.dialect.name == "sqlite":
            self.session = factory(bind=_reading_bind(bind))
        else:  # PostgreSQL, and a factory bound to a connection (the tests'), which issues no BEGIN of its own
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
