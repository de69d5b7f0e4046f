"""A fingerprint of every table's rows, to prove that a refused request changed nothing.

Each table is read with `SELECT *` ordered by its primary key and hashed; comparing two fingerprints
names the tables whose rows differ. The table list is read from the database itself, so tables that
later migrations add are covered without registering them anywhere.
"""

import hashlib
import json

from sqlalchemy import Connection, inspect, text

# Bookkeeping a refused request may legitimately touch (e.g. a session's "last used" time). Nothing
# qualifies yet: add a table here only with a comment saying which columns change and why.
IGNORED_TABLES: frozenset[str] = frozenset()

_layouts: dict[str, list[tuple[str, list[str]]]] = {}


# Tables a PostgreSQL extension owns (PostGIS's 8,500-row spatial_ref_sys) are not the app's data.
_EXTENSION_TABLES = text("""
    SELECT c.relname FROM pg_depend d
    JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
    WHERE d.deptype = 'e' AND c.relkind = 'r'
""")


def _layout(connection: Connection) -> list[tuple[str, list[str]]]:
    """(table, columns to order by) for every table of the app, read once per database."""
    key = connection.engine.url.render_as_string(hide_password=True)
    if key not in _layouts:
        inspector = inspect(connection)
        skip = set(IGNORED_TABLES)
        if connection.dialect.name == "postgresql":
            skip |= set(connection.execute(_EXTENSION_TABLES).scalars())
        layout = []
        for table in sorted(inspector.get_table_names()):
            if table in skip:
                continue
            order = inspector.get_pk_constraint(table).get("constrained_columns") or [
                c["name"] for c in inspector.get_columns(table)]
            layout.append((table, order))
        _layouts[key] = layout
    return _layouts[key]


def fingerprint(connection: Connection) -> dict[str, str]:
    """Table name -> hash of its rows, in primary-key order."""
    prints = {}
    for table, order in _layout(connection):
        quote = connection.dialect.identifier_preparer.quote
        sql = f"SELECT * FROM {quote(table)} ORDER BY {', '.join(quote(c) for c in order)}"
        digest = hashlib.sha256()
        for row in connection.execute(text(sql)):
            digest.update(json.dumps(list(row), default=str, sort_keys=True).encode())
            digest.update(b"\n")
        prints[table] = digest.hexdigest()
    return prints


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
