"""Couriers' position reports: at most one kept per courier per POSITION_INTERVAL, written in batches.

Phones report every 5 s, so 2,000 couriers on duty send 400 reports a second. The server keeps at most one
per courier per `POSITION_INTERVAL`: a report sooner than that after the last kept one is answered (with
when to send the next) but not stored, so a page stuck in a fast loop cannot flood the table. A kept report
moves the courier's current position and adds a row to the history with the datum it came in.

Per report that once cost a thread hop, a transaction of three statements and a commit, and on SQLite a
wait for the one write turn. Now (`PositionBatches`):

- a report that this process knows to be too soon (it kept or saw the courier's last one less than the
  interval ago) is answered from memory, without touching the database;
- the others wait in this process's queue, and a writer takes up to BATCH of them per transaction
  (`keep_many`), having first waited LINGER_S for more to come: 400 reports a second over two processes made
  200 transactions a second of one or two reports each, whose fixed cost (the write turn, a thread hop, three
  statements, the commit) was most of a report's; a phone does not mind its answer coming 100 ms later. The
  transaction: the couriers of unknown accounts in one read, the couriers' positions in one UPDATE
  conditional on the interval (which settles reports racing in other processes: the database stays the
  arbiter), the history in one INSERT. No report is answered before the commit that holds it; a batch
  whose transaction failed is written again one report per transaction.

The memory answers only what the database would, `next_after` included: a time it holds was committed as the
courier's position_at, and a later kept report comes at least the interval after it, so none can have been
kept (by any process) while the memory still says too soon.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, partial

from fastapi import FastAPI
from sqlalchemy import Connection, TextClause, bindparam, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from daodian.delivery.errors import NotACourier
from daodian.delivery.models import Courier, CourierPosition
from daodian.delivery.schemas import PositionIn
from daodian.geo.datum import to_wgs84
from daodian.kit.api.http import in_write_turn
from daodian.kit.clock import utcnow
from daodian.kit.db import UTCDateTime, core_transaction
from daodian.kit.errors import DomainError

POSITION_INTERVAL = timedelta(seconds=4)  # the page sends every 5 s; a little slack for timer jitter
BATCH = 256  # reports per transaction at most: a batch's last report waits for all of them
LINGER_S = 0.1  # how long a batch waits for more reports before its transaction: at most 10 per s per process
REMEMBERED = 100_000  # couriers this process remembers at most (the memory starts afresh past that)

Ack = tuple[bool, datetime]  # (kept?, when the next report is useful)
Outcome = Ack | DomainError

# Built once: building them cost a batch more than running them.
_COURIERS_OF = select(Courier.user_id, Courier.id).where(Courier.user_id.in_(bindparam("user_ids", expanding=True)))
_POSITIONS_AT = select(Courier.id, Courier.position_at).where(Courier.id.in_(bindparam("courier_ids", expanding=True)))
_ADD_HISTORY = insert(CourierPosition)


@dataclass(frozen=True)
class Report:
    user_id: int  # the caller: the courier is the one of this account
    data: PositionIn


@dataclass
class PositionMemory:
    """What this process knows of couriers: whose account each is, and the latest position time committed."""

    courier_of: dict[int, int] = field(default_factory=dict)  # user id -> courier id
    kept_at: dict[int, datetime] = field(default_factory=dict)  # courier id -> its position_at, as last seen

    def too_soon(self, user_id: int, now: datetime) -> datetime | None:
        """When the next report is useful, if this one is known to be too soon; else None (ask the database)."""
        courier_id = self.courier_of.get(user_id)
        seen = self.kept_at.get(courier_id) if courier_id is not None else None
        if seen is not None and now < seen + POSITION_INTERVAL:
            return seen + POSITION_INTERVAL
        return None

    def learn(self, written: "Written") -> None:
        """What a committed batch showed."""
        if len(self.courier_of) + len(written.couriers) > REMEMBERED:
            self.courier_of.clear()
            self.kept_at.clear()
        for user_id in written.gone:
            self.courier_of.pop(user_id, None)
        self.courier_of.update(written.couriers)
        for courier_id, at in written.times.items():
            seen = self.kept_at.get(courier_id)
            if seen is None or at > seen:
                self.kept_at[courier_id] = at


@dataclass
class Written:
    """A batch's outcomes, in order, and what the process may remember of it once committed."""

    outcomes: list[Outcome]
    couriers: dict[int, int]  # user id -> courier id, found by this batch
    times: dict[int, datetime]  # courier id -> its position_at now
    gone: set[int]  # user ids whose remembered courier is no more (an erased account's)


def keep_many(connection: Connection, reports: list[Report], courier_of: Mapping[int, int],
              now: datetime) -> Written:
    """Each report's outcome, written in the caller's transaction: the courier's position moved and a history
    row added for each report that comes at least POSITION_INTERVAL after its courier's last kept one."""
    found = _couriers_of(connection, {r.user_id for r in reports if r.user_id not in courier_of})
    couriers = {**courier_of, **found}
    first: dict[int, int] = {}  # courier id -> index of its first report here (a later one is too soon)
    for i, report in enumerate(reports):
        courier_id = couriers.get(report.user_id)
        if courier_id is not None:
            first.setdefault(courier_id, i)
    where = {i: to_wgs84(reports[i].data.lat, reports[i].data.lng, reports[i].data.datum) for i in first.values()}
    kept = set(_move(connection, [(c, *where[i]) for c, i in first.items()], now)) if first else set()
    times = {courier_id: now for courier_id in kept}
    times.update(_positions_at(connection, set(first) - kept))
    if kept:
        connection.execute(_ADD_HISTORY, [_history_row(couriers[reports[i].user_id], reports[i], where[i],
                                                                  now)
                                                     for i in sorted(first[c] for c in kept)])
    outcomes: list[Outcome] = []
    gone: set[int] = set()
    for i, report in enumerate(reports):
        courier_id = couriers.get(report.user_id)
        if courier_id is None or courier_id not in times:  # not a courier (or no more)
            found.pop(report.user_id, None)
            gone.add(report.user_id)
            outcomes.append(NotACourier())
        elif courier_id in kept and first[courier_id] == i:
            outcomes.append((True, now + POSITION_INTERVAL))
        else:
            outcomes.append((False, times[courier_id] + POSITION_INTERVAL))
    return Written(outcomes, found, times, gone)


def _couriers_of(connection: Connection, user_ids: set[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    return dict(connection.execute(_COURIERS_OF, {"user_ids": list(user_ids)}).all())


def _move(connection: Connection, moves: list[tuple[int, float, float]], now: datetime) -> list[int]:
    """The couriers whose position moved: those whose last one is at least the interval old (one UPDATE)."""
    size = 1 << (len(moves) - 1).bit_length()  # a few shapes, each compiled once (padding matches no courier)
    params: dict = {"now": now, "cutoff": now - POSITION_INTERVAL}
    for i, (courier_id, lat, lng) in enumerate(moves + [(0, 0.0, 0.0)] * (size - len(moves))):
        params[f"i{i}"], params[f"a{i}"], params[f"o{i}"] = courier_id, lat, lng
    return list(connection.scalars(_move_statement(size), params))


@cache
def _move_statement(size: int) -> TextClause:
    """UPDATE ... FROM a VALUES list of `size` rows, in SQL both databases read: a Core `values()` in a CTE is
    compiled again for every batch (it has no cache key), which cost more than the UPDATE itself."""
    rows = ", ".join(f"(CAST(:i{i} AS BIGINT), CAST(:a{i} AS FLOAT), CAST(:o{i} AS FLOAT))" for i in range(size))
    return text(
        f"WITH reported(courier_id, new_lat, new_lng) AS (VALUES {rows}) "
        "UPDATE couriers SET lat = reported.new_lat, lng = reported.new_lng, position_at = :now FROM reported "
        "WHERE couriers.id = reported.courier_id AND (couriers.position_at IS NULL OR couriers.position_at <= :cutoff) "
        "RETURNING id"
    ).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("cutoff", type_=UTCDateTime()))


def _positions_at(connection: Connection, courier_ids: set[int]) -> dict[int, datetime]:
    if not courier_ids:
        return {}
    rows = connection.execute(_POSITIONS_AT, {"courier_ids": list(courier_ids)})
    return {courier_id: at for courier_id, at in rows if at is not None}


def _history_row(courier_id: int, report: Report, where: tuple[float, float], now: datetime) -> dict:
    data = report.data
    return {"courier_id": courier_id, "lat": where[0], "lng": where[1], "input_lat": data.lat,
            "input_lng": data.lng, "input_datum": data.datum.value, "accuracy_m": data.accuracy_m,
            "recorded_at": now}


def report_one(session: Session, user_id: int, data: PositionIn) -> Ack:
    """One report in the caller's transaction (the courier page's route), as a batch of one would keep it."""
    outcome = keep_many(session.connection(), [Report(user_id, data)], {}, utcnow()).outcomes[0]
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


class PositionBatches:
    """One app's queue of position reports (`batches_of(app)`). One writer per process: a batch's transaction
    takes a few milliseconds, and the reports arriving meanwhile make the next batch."""

    waiting: list[tuple[Report, asyncio.Future]]
    writer: asyncio.Task | None

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None
        self.memory = PositionMemory()

    async def report(self, user_id: int, data: PositionIn) -> Ack:
        """(kept?, when the next report is useful), once committed; NotACourier for an account that is none."""
        next_after = self.memory.too_soon(user_id, utcnow())
        if next_after is not None:
            return False, next_after
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # first use, or a new event loop (a test client's): start afresh there
            self.loop, self.waiting, self.writer = loop, [], None
        future = loop.create_future()
        self.waiting.append((Report(user_id, data), future))
        # A finished writer counts no more from that moment (done()), not from its done callback a loop turn
        # later: a report queued in between would otherwise wait with no writer to take it.
        if self.writer is None or self.writer.done():
            self.writer = loop.create_task(self._write())
        outcome = await future
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    async def _write(self) -> None:
        while self.waiting:
            await asyncio.sleep(LINGER_S)
            batch, self.waiting = self.waiting[:BATCH], self.waiting[BATCH:]
            reports = [report for report, _ in batch]
            try:
                outcomes = await self._committed(reports)
            except Exception:  # the transaction failed, so none of them was kept: each in its own
                outcomes = []
                for report in reports:
                    try:
                        outcomes.extend(await self._committed([report]))
                    except Exception as exc:
                        outcomes.append(exc)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # its caller went away
                    continue
                if isinstance(outcome, Exception) and not isinstance(outcome, DomainError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _committed(self, reports: list[Report]) -> list[Outcome]:
        written = await in_write_turn(self.app, partial(_write_batch, self.app.state.session_factory, reports,
                                                        self.memory.courier_of))
        self.memory.learn(written)  # committed by now
        return written.outcomes


def _write_batch(factory: sessionmaker[Session], reports: list[Report], courier_of: Mapping[int, int]) -> Written:
    with core_transaction(factory) as connection:  # on SQLite, after the writers' turn (kit.sqlite_turns)
        return keep_many(connection, reports, courier_of, utcnow())


def batches_of(app: FastAPI) -> PositionBatches:
    batches = getattr(app.state, "position_batches", None)
    if batches is None:
        batches = app.state.position_batches = PositionBatches(app)
    return batches
