"""Runs Alembic from inside the package, so `daodian db upgrade` works wherever daodian is installed."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from daodian.catalog import service as catalog
from daodian.kit.db import make_session_factory, unit_of_work
from daodian.kit.settings import Settings
from daodian.linkage import service as linkage

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, engine: Engine, revision: str = "heads") -> int:
    """Migrate the schema, then sync reference data (category trees); returns rows of reference data changed."""
    config = alembic_config(settings.database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    with unit_of_work(make_session_factory(engine)) as session:
        return catalog.sync_taxonomy(session) + linkage.sync_curated(session)
