"""Group commit: units of work that arrive together are written in one transaction and one commit.

A crowd of short writes (16 counters verifying codes at once) paid per request a thread hop, a
transaction, a commit, and on SQLite a wait for the one write turn anyway. Here an async route hands
its work to `GroupCommit.run` and awaits the outcome (a sync route from its worker thread: kit.api.idempotency
.run_unit); a writer takes up to BATCH waiting units and runs
them one after another in one unit of work, each in a SAVEPOINT of its own:

- a unit that succeeds is answered only after the commit that holds it;
- a unit that raises a DomainError is rolled back to its savepoint alone (its refusal is its answer),
  and its `after_error` hook (e.g. recording a wrong code) writes in the same transaction;
- a unit that fails otherwise (a lock it would wait for, a deadlock, a bug), and every unit of a batch
  whose commit failed, runs again alone in a transaction of its own, the way it always could: so each
  answer is one a single transaction would have given, in some order of the units.

A unit run with `savepoint=False` (a verification: its refusals are all decided before it writes) has no
savepoint: SAVEPOINT and RELEASE were two of its five statements. Its refusal before any write (no statement
that may change rows, no row given to kit.db.insert_later, nothing pending in the Session) undoes nothing and
is its answer; should it fail otherwise, or after writing, the batch's transaction is rolled back whole and
the batch runs again without it, and it runs alone afterwards (`_Without`): the same answers, in the order
"the batch, then that unit". Rows a batch only inserts (verifications, their facts) can wait for its end
(kit.db.insert_later): one executemany per statement, just before the commit.

The units of a batch share one Session, and lookups for the transaction's length (kit.db.remembered,
kit.db.gathered: a unit names in `wants` what it will look up, and the batch reads each kind once for all).
After the rollback of a unit that wrote something both are dropped and read afresh (a refusal decided
before writing keeps them: `_Writes`). SQLite has one writer per process (its write turn,
kit.api.http); PostgreSQL a few. A PostgreSQL batch gives up a row lock it waited BATCH_LOCK_TIMEOUT for (a
deadlock between two batches would otherwise hold both for a second): that unit runs alone afterwards.
"""

import asyncio
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from daodian.kit.api.http import in_write_turn
from daodian.kit.db import BATCH_INSERTS, BATCH_MEMO, BATCH_WANTS, AfterWrites, unit_of_work, write_inserts
from daodian.kit.errors import DomainError

T = TypeVar("T")

BATCH = 64  # units per transaction at most: the last of a batch waits for all of them
POSTGRESQL_WRITERS = 2  # batches in flight per process (each holds a pooled connection while it writes)
# A PostgreSQL batch waits for a row lock another transaction holds (another batch's: a few milliseconds) at most
# this long, then gives the unit up (it runs alone afterwards): a deadlock between two batches would hold both
# for PostgreSQL's deadlock_timeout (1 s) before one of them failed whole.
BATCH_LOCK_TIMEOUT = "250ms"
# Event loop turns a writer lets pass before taking a batch, while units keep arriving: the requests answered by
# the last batch come back within a few turns, and a batch of two pays the lookups and the commit of sixteen.
ARRIVAL_TURNS = 3

Work = Callable[[Session], T]
AfterError = Callable[[Session, DomainError], None]
Wants = Mapping[str, Iterable[Hashable]]


class _Alone(Exception):
    """A unit the batch could not settle: run it again in its own transaction."""


class _Without(Exception):
    """A unit without a savepoint failed after writing: the batch runs again without it (it runs alone)."""

    def __init__(self, index: int) -> None:
        self.index = index


@dataclass
class _Unit(Generic[T]):
    work: Work[T]
    after_error: AfterError | None
    wants: Wants
    future: asyncio.Future
    savepoint: bool = True


class GroupCommit:
    """One app's group commit (`group_commit_of(app)`)."""

    waiting: list[_Unit]
    writers: set[asyncio.Task]

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None
        self.is_sqlite = app.state.settings.is_sqlite
        self.most_writers = 1 if self.is_sqlite else POSTGRESQL_WRITERS

    async def run(self, work: Work[T], after_error: AfterError | None = None, wants: Wants | None = None,
                  savepoint: bool = True) -> T:
        """`work(session)`'s result once committed, or the DomainError it raised (after `after_error`
        wrote what a refusal leaves behind). Any other failure is raised by the unit run alone. `wants`
        names the keys the work will look up with kit.db.gathered, by kind: the batch reads each kind once.
        `savepoint=False` for work that refuses before it writes (the verification): it runs without a
        savepoint of its own, and should it fail after writing anyway, the batch runs again without it."""
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # first use, or a new event loop (a test client's): start afresh there
            self.loop, self.waiting, self.writers = loop, [], set()
        unit = _Unit(work, after_error, wants or {}, loop.create_future(), savepoint)
        self.waiting.append(unit)
        # A finished writer counts no more from that moment (done()), not from its done callback a loop turn
        # later: a unit queued in between would otherwise wait with no writer to take it.
        self.writers = {writer for writer in self.writers if not writer.done()}
        if len(self.writers) < self.most_writers:
            self.writers.add(loop.create_task(self._write()))
        return await unit.future

    async def _write(self) -> None:
        while self.waiting:
            await self._let_arrive()
            if not self.waiting:  # another writer took them meanwhile
                return
            batch, self.waiting = self.waiting[:BATCH], self.waiting[BATCH:]
            try:
                outcomes = await in_write_turn(self.app, partial(self._batch, batch))
            except Exception:  # the transaction failed, so none of its units happened: each on its own
                outcomes = [_Alone()] * len(batch)
            for unit, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, _Alone):
                    try:
                        outcome = await in_write_turn(self.app, partial(self._alone, unit))
                    except Exception as exc:
                        outcome = exc
                if unit.future.done():  # its caller went away
                    continue
                if isinstance(outcome, BaseException):
                    unit.future.set_exception(outcome)
                else:
                    unit.future.set_result(outcome)

    async def _let_arrive(self) -> None:
        for _ in range(ARRIVAL_TURNS):
            arrived = len(self.waiting)
            if arrived >= BATCH:
                return
            await asyncio.sleep(0)
            if len(self.waiting) == arrived:  # nothing came in a turn: take what there is
                return

    def _batch(self, batch: list[_Unit]) -> list[Any]:
        """Every unit in one transaction: its result, its DomainError, or _Alone."""
        alone: set[int] = set()
        while True:
            try:
                return self._transaction(batch, alone)
            except _Without as without:  # rolled back whole: again, without that unit
                alone.add(without.index)

    def _transaction(self, batch: list[_Unit], alone: set[int]) -> list[Any]:
        outcomes: list[Any] = []
        with unit_of_work(self.app.state.session_factory) as session:
            if not self.is_sqlite:
                session.execute(text(f"SET LOCAL lock_timeout = '{BATCH_LOCK_TIMEOUT}'"))
            _start_memo(session, batch)
            session.info[BATCH_INSERTS] = []
            writes = _Writes()
            event.listen(session.connection(), "before_cursor_execute", writes)
            for index, unit in enumerate(batch):
                if index in alone:
                    outcomes.append(_Alone())
                elif unit.savepoint:
                    outcomes.append(self._in_savepoint(session, batch, unit, writes))
                else:
                    outcomes.append(self._bare(session, index, unit, writes))
            write_inserts(session)
            return [outcome.build() if isinstance(outcome, AfterWrites) else outcome for outcome in outcomes]

    def _in_savepoint(self, session: Session, batch: list[_Unit], unit: _Unit, writes: "_Writes") -> Any:
        savepoint = session.begin_nested()
        written, inserted = writes.count, len(session.info[BATCH_INSERTS])
        try:
            outcome = unit.work(session)
            savepoint.commit()
            return outcome
        except DomainError as exc:
            savepoint.rollback()
            del session.info[BATCH_INSERTS][inserted:]
            if writes.count != written:  # a refusal that changed nothing keeps what the batch read
                _forget(session, batch)
            if unit.after_error is not None:
                unit.after_error(session, exc)
            return exc
        except Exception:
            savepoint.rollback()
            del session.info[BATCH_INSERTS][inserted:]
            _forget(session, batch)
            return _Alone()

    @staticmethod
    def _bare(session: Session, index: int, unit: _Unit, writes: "_Writes") -> Any:
        """A unit without a savepoint (SAVEPOINT and RELEASE were two of a verification's five statements): a
        refusal before any write leaves nothing to undo; any other failure undoes the batch (_Without)."""
        written, inserted = writes.count, len(session.info[BATCH_INSERTS])
        try:
            outcome = unit.work(session)
            session.flush()  # as a savepoint's release would: the next unit reads what this one changed
            return outcome
        except DomainError as exc:
            if (writes.count != written or len(session.info[BATCH_INSERTS]) != inserted
                    or session.new or session.dirty or session.deleted):
                raise _Without(index) from exc
            if unit.after_error is not None:
                unit.after_error(session, exc)
            return exc
        except Exception as exc:  # on PostgreSQL the transaction is void after a failed statement
            raise _Without(index) from exc

    def _alone(self, unit: _Unit) -> Any:
        """One unit in its own transaction, as a route without group commit runs it."""
        factory = self.app.state.session_factory
        try:
            with unit_of_work(factory) as session:
                return unit.work(session)
        except DomainError as exc:
            if unit.after_error is not None:
                with unit_of_work(factory) as session:
                    unit.after_error(session, exc)
            return exc


class _Writes:
    """Counts the statements of a batch's connection that may change rows. Most refusals (a wrong code, a use
    already consumed) are decided before their unit writes anything: rolling such a unit back undoes
    nothing, so the batch keeps what it read (the memo, the loaded objects) instead of reading it all again
    for every unit after each refusal. (An object the unit changed in memory without writing it is expired by
    the savepoint's rollback itself.)"""

    WRITING = ("INSERT", "UPDATE", "DELETE", "WITH", "REPLACE", "MERGE")  # WITH: a CTE may write

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _connection, _cursor, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(self.WRITING):
            self.count += 1


def _start_memo(session: Session, batch: list[_Unit]) -> None:
    wanted: dict[str, set[Hashable]] = {}
    for unit in batch:
        for kind, keys in unit.wants.items():
            wanted.setdefault(kind, set()).update(keys)
    session.info[BATCH_WANTS] = wanted
    session.info[BATCH_MEMO] = {}


def _forget(session: Session, batch: list[_Unit]) -> None:
    """After a unit's rollback nothing read or counted in memory may outlive what the rollback undid: the
    objects are expired and the memo starts again (what the next unit asks for is read afresh)."""
    session.expire_all()
    _start_memo(session, batch)


def group_commit_of(app: FastAPI) -> GroupCommit:
    group = getattr(app.state, "group_commit", None)
    if group is None:
        group = app.state.group_commit = GroupCommit(app)
    return group
