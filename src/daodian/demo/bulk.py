"""Bulk appends for generated data, inside the caller's transaction: `COPY` on PostgreSQL, executemany on SQLite.

Rows skip the ORM and SQLAlchemy's per-value type processing, which would cost more than the insert
itself at a million stores. So values must already be what the driver stores: timestamps come in as
numpy datetime64 and are written here in each backend's format, JSON columns come in as JSON text,
booleans as Python bools. Ids are allocated here in blocks so foreign keys can be computed with numpy
before anything is written.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from sqlalchemy import Connection, Engine, Table, text

from daodian.kit.db import UTCDateTime

CHUNK = 20_000
# Tables receiving at least this many rows lose their secondary indexes (and foreign keys on PostgreSQL)
# for the load (see `relaxed`); below it, per-row upkeep is cheaper than rebuilding.
REBUILD_FROM = 100_000

Advance = Callable[[int], None]


class BulkWriter:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self._reserved: dict[str, int] = {}  # SQLite: last id handed out per table
        if not self.postgres:
            # A bigger page cache for this connection keeps index pages of a million-row load in memory
            # instead of re-reading them from the WAL; it only lives as long as the connection.
            connection.exec_driver_sql("PRAGMA cache_size = -262144")

    def reserve_ids(self, table: Table, n: int) -> np.ndarray:
        """n fresh consecutive ids for `table`, past every id in use, handed out earlier, or (PostgreSQL)
        given out by its sequence."""
        if self.postgres:
            # setval moves the sequence past the block at once, so the app's own inserts never collide with it.
            seq = self.connection.scalar(text(f"SELECT pg_get_serial_sequence('{table.name}', 'id')"))
            top = self.connection.scalar(text(
                f"SELECT setval('{seq}', GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table.name}), "
                f"(SELECT last_value FROM {seq})) + :n) - :n"), {"n": n})
        else:
            top = self._reserved.get(table.name)
            if top is None:
                top = self.connection.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}"))
            self._reserved[table.name] = top + n
        return np.arange(top + 1, top + 1 + n, dtype=np.int64)

    @contextmanager
    def relaxed(self, tables: list[Table], advance_by: Callable[[int], Advance] | None = None) -> Iterator[None]:
        """Drop the tables' secondary indexes (and on PostgreSQL their foreign keys) during the load and put
        them back afterwards, as PostgreSQL's "Populating a Database" advises: one sorted build and one
        validating join instead of an index insertion and a trigger call per row (3x faster for a million
        stores on PostgreSQL). SQLite cannot switch foreign keys off inside a transaction; it keeps them.

        It all happens inside the caller's transaction: other sessions never see the tables without their
        indexes or constraints, and a failed check rolls the whole load back. Definitions are read from the
        catalog, so whatever the migrations created is exactly what comes back.
        """
        saved = [(table.name, self.foreign_keys(table), self.indexes(table)) for table in tables]
        for table_name, keys, indexes in saved:
            for name, _ in keys:
                self.connection.exec_driver_sql(f'ALTER TABLE "{table_name}" DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                self.connection.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        advance = advance_by(sum(len(k) + len(i) for _, k, i in saved)) if advance_by and saved else None
        for table_name, keys, indexes in saved:
            for _, definition in indexes:
                self.connection.exec_driver_sql(definition)
                if advance:
                    advance(1)
            for name, definition in keys:
                self.connection.exec_driver_sql(f'ALTER TABLE "{table_name}" ADD CONSTRAINT "{name}" {definition}')
                if advance:
                    advance(1)

    def foreign_keys(self, table: Table) -> list[tuple[str, str]]:
        if not self.postgres:
            return []
        return [tuple(r) for r in self.connection.execute(text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname"), {"t": table.name})]

    def indexes(self, table: Table) -> list[tuple[str, str]]:
        """Secondary indexes: not those behind a primary key or unique constraint (SQLite lists those
        without SQL text)."""
        if self.postgres:
            sql = ("SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                   "WHERE x.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
                   "(SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) ORDER BY c.relname")
        else:
            sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL ORDER BY name"
        return [tuple(r) for r in self.connection.execute(text(sql), {"t": table.name})]

    def insert(self, table: Table, columns: dict[str, Sequence | np.ndarray], advance: Advance | None = None) -> int:
        """Append rows given column-wise (equal lengths); returns how many were written."""
        total = len(next(iter(columns.values()))) if columns else 0
        if total == 0:
            return 0
        columns = {**_defaults(table, columns, total), **columns}
        names = list(columns)
        values = [self._driver_values(table, name, columns[name]) for name in names]
        if self.postgres:
            self._copy(table, names, values, total, advance)
        else:
            sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            for start in range(0, total, CHUNK):
                rows = list(zip(*(v[start:start + CHUNK] for v in values)))
                self.connection.exec_driver_sql(sql, rows)
                if advance:
                    advance(len(rows))
        return total

    def _copy(self, table: Table, names: list[str], values: list[list], total: int, advance: Advance | None) -> None:
        cursor = self.connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for start in range(0, total, CHUNK):
                for row in zip(*(v[start:start + CHUNK] for v in values)):
                    copy.write_row(row)
                if advance:
                    advance(min(CHUNK, total - start))

    def _driver_values(self, table: Table, name: str, data: Sequence | np.ndarray) -> list:
        column = table.c[name]
        if isinstance(column.type, UTCDateTime):
            return self._timestamps(np.asarray(data, dtype="datetime64[us]"))
        if isinstance(data, np.ndarray):
            return data.tolist()  # plain Python numbers: sqlite3 refuses numpy scalars
        return [v.item() if isinstance(v, np.generic) else v for v in data]

    def _timestamps(self, values: np.ndarray) -> list[str]:
        # UTC instants. SQLite gets SQLAlchemy's own storage format (space, six fractional digits) so
        # ORM-written and bulk-written rows sort and compare alike; PostgreSQL gets an explicit offset.
        unique, index = np.unique(values, return_inverse=True)
        text_ = np.array(utc_strings(unique, "+00" if self.postgres else ""), dtype=object)
        text_[np.isnat(unique)] = None  # None in, NULL out (nullable times such as paid_at)
        return text_[index.ravel()].tolist()

def analyze(engine: Engine) -> None:
    """Fresh planner statistics after a big load, once it is committed (PostgreSQL; SQLite plans well without)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()


def _defaults(table: Table, given: dict, n: int) -> dict[str, list]:
    """Columns the caller left out that only have an ORM-side constant default (`default=0`): the ORM
    would fill them, Core does not. Columns with a server default are left to the database."""
    out = {}
    for column in table.columns:
        if column.name in given or column.server_default is not None or column.primary_key:
            continue
        if column.default is not None and column.default.is_scalar:
            out[column.name] = [column.default.arg] * n
        elif not column.nullable:
            raise ValueError(f"bulk rows for {table.name} lack {column.name}, which has no constant default")
    return out


def utc_strings(values: np.ndarray, suffix: str = "") -> list[str]:
    """'YYYY-MM-DD HH:MM:SS.ffffff' for datetime64 values, digit by digit in numpy (strftime per row
    or numpy's own ISO formatting costs seconds per million)."""
    v = np.asarray(values, dtype="datetime64[us]")
    months, days = v.astype("datetime64[M]"), v.astype("datetime64[D]")
    us = (v - days).astype(np.int64)
    fields = (
        (v.astype("datetime64[Y]").astype(np.int64) + 1970, 4, "-"),
        (months.astype(np.int64) % 12 + 1, 2, "-"),
        ((days - months.astype("datetime64[D]")).astype(np.int64) + 1, 2, " "),
        (us // 3_600_000_000, 2, ":"), (us // 60_000_000 % 60, 2, ":"), (us // 1_000_000 % 60, 2, "."),
        (us % 1_000_000, 6, suffix),
    )
    width = 26 + len(suffix)
    out = np.zeros((v.size, width), dtype=np.uint8)
    pos = 0
    for value, digits, tail in fields:
        for k in range(digits):
            out[:, pos + k] = value // 10 ** (digits - 1 - k) % 10 + 48
        pos += digits
        for ch in tail:
            out[:, pos] = ord(ch)
            pos += 1
    return out.view(f"S{width}").ravel().astype(f"U{width}").tolist()
