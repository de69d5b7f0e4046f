"""The facts outbox, read by cursor: each asynchronous consumer reads every fact once, in id order.

Facts are appended in the transaction of the change they record (kit.facts). Work that must not share
that transaction (the Parquet export today; webhooks and notifications next) reads them afterwards,
each consumer from its own position in `outbox_cursors`:

- it reads only below the committed barrier, the highest id under which no transaction can still add
  a fact (PostgreSQL hands ids out before commit, so a later commit can land below a fact already
  visible; SQLite serialises writers anyway);
- it moves its cursor with a compare-and-set from the position it read from, so two runs of the same
  consumer never both take a batch: the second one's `advance` fails with CursorMoved and its work is
  discarded with its transaction.

A consumer whose output lives elsewhere (files) and is written in its own order may keep its
authoritative position with that output and `sync` the cursor to it (analytics.export does).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, UTCDateTime, unit_of_work
from daodian.kit.facts import Fact


class OutboxCursor(Base):
    __tablename__ = "outbox_cursors"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)  # the last fact id the consumer is done with
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CursorMoved(RuntimeError):
    """Another run of the same consumer moved the cursor first; this run's batch must not count."""


def position(session: Session, consumer: str, *, lock: bool = False) -> int:
    """Where the consumer stands (0 for a new one, whose row is created then). `lock`: hold the cursor's row
    until the transaction ends, so a parallel run of the same consumer waits instead of reading the same
    batch (PostgreSQL; SQLite's writers take turns anyway)."""
    stmt = select(OutboxCursor.position).where(OutboxCursor.consumer == consumer)
    found = session.scalar(stmt.with_for_update() if lock else stmt)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.execute(insert(OutboxCursor).values(consumer=consumer, position=0, updated_at=utcnow()))
    except IntegrityError:  # a parallel run created it first
        pass
    return session.scalar(stmt.with_for_update() if lock else stmt)


def committed_barrier(session: Session) -> int:
    """The highest fact id below which every fact is committed (nothing can appear below it later).

    PostgreSQL: a SHARE lock on `facts` waits for every transaction that inserted a fact to end, and any
    transaction that inserts later draws a higher id. The lock is held until the caller's transaction
    ends: call it in a short transaction of its own.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL lock_timeout = '60s'"))
        session.execute(text("LOCK TABLE facts IN SHARE MODE"))
    return session.scalar(select(Fact.id).order_by(Fact.id.desc()).limit(1)) or 0


def read(session: Session, *, after: int, upto: int, limit: int, columns: tuple | None = None) -> list[Any]:
    """Facts with after < id <= upto, in id order, at most `limit` (whole Fact rows, or the given columns)."""
    stmt = select(*columns) if columns else select(Fact)
    stmt = stmt.where(Fact.id > after, Fact.id <= upto).order_by(Fact.id).limit(limit)
    return list(session.execute(stmt).all() if columns else session.scalars(stmt).all())


def advance(session: Session, consumer: str, *, from_position: int, to_position: int) -> None:
    """Move the cursor from where this run read to the last fact it finished; CursorMoved if another run
    moved it meanwhile (the caller's transaction then rolls back with its work)."""
    moved = session.execute(
        update(OutboxCursor).where(OutboxCursor.consumer == consumer, OutboxCursor.position == from_position)
        .values(position=to_position, updated_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise CursorMoved(f"outbox consumer {consumer!r} is no longer at {from_position}")


def consume(factory: sessionmaker[Session], consumer: str, handle: Callable[[Session, list[Fact]], None], *,
            batch: int = 500) -> int:
    """Hand every committed fact the consumer has not read to `handle(session, facts)`, a batch at a time,
    each batch in one transaction with the move of the cursor; returns how many facts were handled.

    What `handle` writes in `session` commits exactly once with the cursor; a failure rolls both back and
    raises (the next run retries the batch). Safe to run in parallel with itself.
    """
    with unit_of_work(factory) as session:  # its own short transaction: the barrier's lock is brief
        barrier = committed_barrier(session)
    handled = 0
    while True:
        with unit_of_work(factory) as session:
            start = position(session, consumer, lock=True)
            facts = read(session, after=start, upto=barrier, limit=batch)
            if not facts:
                return handled
            handle(session, facts)
            advance(session, consumer, from_position=start, to_position=facts[-1].id)
        handled += len(facts)


def sync(session: Session, consumer: str, to_position: int) -> None:
    """Set the cursor of a consumer that keeps its authoritative position elsewhere (with its output)."""
    position(session, consumer)
    session.execute(update(OutboxCursor).where(OutboxCursor.consumer == consumer)
                    .values(position=to_position, updated_at=utcnow()).execution_options(synchronize_session=False))


def lag(session: Session) -> dict[str, int]:
    """Facts each consumer has not read yet (for operators)."""
    newest = session.scalar(select(Fact.id).order_by(Fact.id.desc()).limit(1)) or 0
    return {c.consumer: newest - c.position for c in session.scalars(select(OutboxCursor).order_by(OutboxCursor.consumer))}
