"""Request-scoped dependencies shared by every domain's routes."""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from functools import partial
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, FastAPI, Path, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from daodian.kit.api.request_unit import CURRENT_UNIT, RequestUnit
from daodian.kit.db import WRITE_TURN
from daodian.kit.ids import MAX_ID
from daodian.kit.worker_threads import in_loop, in_loop_sync, run_sync

T = TypeVar("T")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# How many requests of this process may be in their database phase at once. Worker threads are few
# and shared (kit.worker_threads.MAX_THREADS, 40): a request waiting for a row lock (PostgreSQL) or the write lock
# (SQLite) holds one, and between its dependencies and its route the request *holding* the lock needs
# another; with 40 waiters nobody finishes (50 parallel bookings once ended in pool timeouts). Well
# below 40 threads, and within the connection pool (kit.db: 10 + 10 overflow), so every admitted request gets
# a thread and a connection; the rest wait here without taking either.
DB_CONCURRENCY = 10


# OpenAPI extension of idempotent routes (kit.api.idempotency). They run their own short transactions one after
# another, with slow work between them (a payment provider's HTTP call), so on SQLite they take the write
# turn per transaction (`transaction_factory`), not for the whole request: a retry with the same
# Idempotency-Key then gets its 409 while the first request still waits on the provider.
IDEMPOTENT = "x-idempotent"

def _app_turn(app: FastAPI) -> anyio.Semaphore:
    turn = getattr(app.state, "sqlite_write_turn", None)
    if turn is None:  # one per app, made on first use inside its event loop
        turn = app.state.sqlite_write_turn = anyio.Semaphore(1)  # a semaphore: released by another task
    return turn


def _turn_per_transaction(request: Request) -> bool:
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    return bool(extra.get(IDEMPOTENT))


def _needs_write_turn(request: Request) -> bool:
    """On SQLite one transaction writes at a time whatever we do. A writing request (any method but a read)
    waits for its turn in the event loop (holding its slot), with neither a thread nor a timeout, instead of
    inside SQLite's busy_timeout holding a thread, where a lock holder slowed down between its thread hops (its
    principal lookup, its route, its commit) could time the waiters out with 503s under load."""
    return (request.method not in READ_METHODS and request.app.state.settings.is_sqlite
            and not _turn_per_transaction(request))


def _app_slots(app: FastAPI) -> asyncio.Semaphore:
    """This app's DB_CONCURRENCY slots, made in the event loop that uses them (a test client brings its own)."""
    loop = asyncio.get_running_loop()
    slots = getattr(app.state, "db_slots", None)
    if slots is None or slots[0] is not loop:
        slots = app.state.db_slots = (loop, asyncio.Semaphore(DB_CONCURRENCY))
    return slots[1]


@contextmanager
def _turn_from_worker_thread(app: FastAPI) -> Iterator[None]:
    turn = in_loop_sync(_app_turn, app)
    in_loop(turn.acquire)
    try:
        yield
    finally:
        in_loop_sync(turn.release)


async def in_write_turn(app: FastAPI, work: Callable[[], T]) -> T:
    """Run async code's writing transaction in a worker thread; on SQLite while holding this process's
    write turn, taken here in the event loop (no thread waits for it)."""
    if not app.state.settings.is_sqlite:
        return await run_sync(work)
    async with _app_turn(app):
        return await run_sync(work)


def transaction_factory(request: Request) -> Callable[[], Session] | sessionmaker[Session]:
    """The session factory for a route's own transactions: on SQLite, unless the request already holds the
    write turn, each writing unit of work waits for the turn and holds it until it ends."""
    factory = request.app.state.session_factory
    if not request.app.state.settings.is_sqlite or getattr(request.state, "holds_write_turn", False):
        return factory
    return partial(factory, info={WRITE_TURN: partial(_turn_from_worker_thread, request.app)})


async def _db_gate(request: Request) -> Session:
    """A slot, then the write turn when the request needs it, then the request's unit of work, whose session it
    returns: DbSlot and DbSession are this one dependency, resolved once per request.

    Slot before turn, for every route: idempotent routes take the turn per transaction from their worker
    thread while they hold their slot (transaction_factory), and their group-commit units wait on a writer
    that takes the turn. When plain writes took the turn first and a slot second, one of them holding the
    turn could wait for a slot held by requests that all waited for the turn: nobody moved again. Now the
    turn's holder always has its slot already and waits for nothing but its own work.

    All three are let go on the request's function-scope exit stack, where FastAPI ends `scope="function"`
    dependencies: after the route and its response's serialisation, before the response is sent. A plain async dependency, not a generator: FastAPI wraps each generator
    dependency in two context managers, a cancel scope and a checkpoint, which cost more than this whole gate
    (and the three nested dependencies it replaces cost three times that)."""
    app = request.app
    exits: AsyncExitStack = request.scope["fastapi_function_astack"]  # FastAPI's own, asserted by it too
    slots = _app_slots(app)
    await slots.acquire()
    exits.callback(slots.release)
    if _needs_write_turn(request):
        turn = _app_turn(app)
        await turn.acquire()
        exits.callback(turn.release)
        request.state.holds_write_turn = True
    unit = RequestUnit(app.state.session_factory, read_only=request.method in READ_METHODS)
    token = CURRENT_UNIT.set(unit)
    exits.callback(CURRENT_UNIT.reset, token)
    exits.push_async_exit(unit.exit)  # first out: the transaction ends before the slot and the turn are let go
    return unit.session


# The single gate. Every route that touches the database depends on it, directly or through DbSession
# (routes running their own short transactions through accounts.own_transaction_deps too): one limit per app;
# within a request it is acquired once (cached) and held until the route's transaction has ended, so no
# request ever waits for a second slot.
DbSlot = Depends(_db_gate)

# The request's session, behind the gate. Committed before the response is sent (kit.api.one_hop, or the
# gate's exit), so a failed commit is never reported as success.
DbSession = Annotated[Session, DbSlot]

# Route id segments as `{store_id:int}`: then only digits reach the route, and a literal path beside
# it (`/stores/nearby`) is never taken for an id by the other methods (`PATCH /stores/nearby`).
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def access(rule: str) -> dict:
    """Declare who may call a route: "public", "authenticated", "operator", "self" or "merchant:<action>",
    or "self|merchant:<action>": a consumer's object (an order, a booking) that staff with <action> at
    the merchant it was bought from may use too.

    Enforcement happens in the services (accounts.authz); the authorization matrix test holds every
    route to what it declares here, and fails for a route that declares nothing.

    A public route adds the empty security requirement `{}` to whatever FastAPI derives from its
    dependencies, so the schema says a bearer token is optional there rather than required.
    """
    extra: dict = {"x-access": rule}
    if rule == "public":
        extra["security"] = [{}]
    return extra
