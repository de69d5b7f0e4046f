"""Runs Alembic from inside the package, so `daodian db upgrade` works wherever daodian is installed."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from daodian.kit.db import make_session_factory, unit_of_work
from daodian.kit.settings import Settings
from daodian.linkage import service as linkage
from daodian.taxonomy import service as taxonomy

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for migrating. SQLite alters a table by copying, dropping and renaming it (Alembic's
    batch mode), which with foreign keys enforced would cascade into, or fail on, the rows referring to
    it: so, as SQLite's own procedure says, keys are off while migrating and checked before commit."""
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            yield connection
            return
        raw = connection.connection.driver_connection  # no BEGIN: inside a transaction SQLite ignores the pragma
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            yield connection
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"migration left rows whose foreign keys point nowhere: {broken[:10]}")


def upgrade(settings: Settings, engine: Engine, revision: str = "heads") -> int:
    """Migrate the schema, then sync reference data (category trees); returns rows of reference data changed."""
    config = alembic_config(settings.database_url)
    with _migration_connection(engine) as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        _check_foreign_keys(connection)
    with unit_of_work(make_session_factory(engine)) as session:
        return taxonomy.sync_taxonomy(session) + linkage.sync_curated(session)
