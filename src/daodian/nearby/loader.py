"""What the nearby index reads from the database: every store at a build, what changed at a poll.

A build uses bulk Core selects streamed as plain driver tuples (a million ORM objects would cost more
than the reading). A poll reads (id, stamp) of rows stamped since the watermark first, from the
updated_at index, and whole rows only for stamps it has not applied yet: polls overlap
(kit.freshness), and a bulk change must cost one full read per process, not one per poll.
Promotions reach the index because creating or cancelling one stamps the store's `updated_at`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Text, cast, func, literal, select
from sqlalchemy.orm import Session

from daodian.kit.clock import utcnow
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreCategory, StorePromotion
from daodian.nearby.table import StoreTable

STORE_COLUMNS = (Store.id, Store.merchant_id, Store.lat, Store.lng, Store.status, Store.timezone,
                 cast(Store.hours, Text), cast(Store.closed_dates, Text), Store.rating_avg, Store.rating_count,
                 Store.popularity, Store.updated_at)
_CHUNK = 50_000
_BATCH = 10_000  # ids per IN (...) when reading changed rows

Windows = dict[int, list[tuple[float, float]]]  # store id -> promotion windows (epoch seconds)


class StoreChange(NamedTuple):
    row: Any  # STORE_COLUMNS
    categories: tuple[int, ...]
    promotions: tuple[tuple[float, float], ...]
    updated_at: datetime


class MerchantChange(NamedTuple):
    merchant_id: int
    active: bool
    updated_at: datetime


class Tick(NamedTuple):
    """When a poll started. Everything stamped before it (less the overlap) has been seen, so the
    watermark may move here even when nothing changed: otherwise the rows of the last burst of
    changes (a bulk import: a million) would be read again on every poll until the next change."""

    updated_at: datetime


def raw_chunks(session: Session, stmt) -> Iterator[list[tuple]]:
    """Plain driver tuples for a parameterless select, streamed (on PostgreSQL a named cursor keeps
    them on the server meanwhile)."""
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    driver = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    cursor = driver.cursor(name="daodian_nearby_load") if postgres else driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_CHUNK):
            yield rows
    finally:
        cursor.close()


def newest_change(session: Session) -> datetime | None:
    stamps = [session.scalar(select(func.max(t.updated_at))) for t in (Store, Merchant)]
    return max((t for t in stamps if t is not None), default=None)


def load_table(session: Session) -> StoreTable:
    """Every merchant's status and every store, in id order (not sealed yet)."""
    table = StoreTable()
    for part in raw_chunks(session, select(Merchant.id, Merchant.status)):
        table.set_merchants(part)
    # Without updated_at (the last column): turning a million stamps into datetimes costs seconds.
    for part in raw_chunks(session, select(*STORE_COLUMNS[:-1], literal(None)).order_by(Store.id)):
        table.append(part)
    return table


def category_pairs(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """(store ids, category ids) of every store-category row."""
    chunks = [np.array(part, dtype=np.int64).reshape(-1, 2)
              for part in raw_chunks(session, select(StoreCategory.store_id, StoreCategory.category_id))]
    pairs = np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.int64)
    return pairs[:, 0], pairs[:, 1]


def categories_of(session: Session, store_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for i in range(0, len(store_ids), _BATCH):
        for store_id, cat in session.connection().execute(
                select(StoreCategory.store_id, StoreCategory.category_id)
                .where(StoreCategory.store_id.in_(store_ids[i:i + _BATCH]))):
            found.setdefault(store_id, []).append(cat)
    return found


def stamps_since(session: Session, since: datetime) -> list[tuple[int, datetime]]:
    return [tuple(r) for r in session.connection().execute(
        select(Store.id, Store.updated_at).where(Store.updated_at > since))]


def changed_count(session: Session, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Store).where(Store.updated_at > since)) or 0


def promotion_windows(session: Session, store_ids: list[int] | None) -> Windows:
    stmt = select(StorePromotion.store_id, StorePromotion.starts_at, StorePromotion.ends_at).where(
        StorePromotion.cancelled_at.is_(None), StorePromotion.ends_at > utcnow())
    if store_ids is not None:
        stmt = stmt.where(StorePromotion.store_id.in_(store_ids))
    windows: Windows = {}
    for store_id, starts, ends in session.execute(stmt):
        windows.setdefault(store_id, []).append((starts.timestamp(), ends.timestamp()))
    return windows


def fetch_changed(session: Session, since: datetime, table: StoreTable,
                  applied: dict[int, float]) -> list[StoreChange | MerchantChange | Tick]:
    """Merchants and stores changed since `since`, skipping store stamps already applied (by slot)."""
    tick = Tick(utcnow())
    conn = session.connection()
    merchants = [MerchantChange(m_id, status == MerchantStatus.ACTIVE, at) for m_id, status, at in conn.execute(
        select(Merchant.id, Merchant.status, Merchant.updated_at).where(Merchant.updated_at > since))]
    active = table.merchant_active
    flipped = [m.merchant_id for m in merchants if m.merchant_id >= active.n or active.array[m.merchant_id] != m.active]
    stamps = stamps_since(session, since)
    slots = table.slots_of(np.array([i for i, _ in stamps], dtype=np.int64)).tolist()
    wanted = [i for (i, at), slot in zip(stamps, slots) if slot < 0 or applied.get(slot) != at.timestamp()]
    rows = []
    if flipped:
        rows += conn.execute(select(*STORE_COLUMNS).where(Store.merchant_id.in_(flipped))).all()
    for i in range(0, len(wanted), _BATCH):
        rows += conn.execute(select(*STORE_COLUMNS).where(Store.id.in_(wanted[i:i + _BATCH]))).all()
    rows = list({r.id: r for r in rows}.values())  # a store may come both ways
    ids = sorted(r.id for r in rows)
    categories = categories_of(session, ids)
    windows = promotion_windows(session, ids) if ids else {}
    stores = [StoreChange(r, tuple(categories.get(r.id, ())), tuple(windows.get(r.id, ())), r.updated_at)
              for r in rows]
    return [*merchants, *stores, tick]


def store_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Store)) or 0


def newest_store():
    """(id, updated_at) of the most recently stamped store."""
    return select(Store.id, Store.updated_at).order_by(Store.updated_at.desc(), Store.id.desc()).limit(1)


def still_holds(session: Session, stores: int, newest: tuple[int, datetime] | None, since: datetime,
                max_changes: float) -> bool:
    """Whether a copy taken when the database had `stores` stores, the newest stamped `newest`, is still
    of this database and worth catching up: no fewer stores (they are closed, never deleted), that store
    stamped no earlier (else the database was replaced or restored), at most `max_changes` stores
    stamped since `since`."""
    if store_count(session) < stores:
        return False
    if newest is not None:
        stamp = session.scalar(select(Store.updated_at).where(Store.id == newest[0]))
        if stamp is None or stamp < newest[1]:
            return False
    return changed_count(session, since) <= max_changes
