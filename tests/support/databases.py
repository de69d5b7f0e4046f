"""Fresh, migrated test databases on either backend."""

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from daodian import migrate
from daodian.kit.db import create_db_engine
from daodian.kit.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get("DAODIAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Every scratch PostgreSQL database this process made: dropped when the session ends (`drop_prepared`), so a
# run leaves nothing behind even where a fixture forgot to drop its own.
_prepared: set[str] = set()


def _postgres_url(name: str) -> str:
    admin = make_url(POSTGRES_ADMIN_URL)
    name = f"{name}_{os.getpid()}"  # parallel runs on one server must not drop each other's database
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # A scratch database need not survive a power cut: commits do not wait for the WAL flush.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
        engine.dispose()
    except Exception as exc:  # the server is not there
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"CI must run the PostgreSQL leg, but {admin.host} is unreachable: {exc}") from exc
        pytest.skip(f"PostgreSQL not reachable at {admin.render_as_string(hide_password=True)}: {exc}")
    return admin.set(database=name).render_as_string(hide_password=False)


def empty_database(backend: str, name: str, tmp_dir: Path) -> Settings:
    """Settings for a new database with nothing in it, not even the schema (dropped at the session's end)."""
    url = _postgres_url(name) if backend == "postgresql" else f"sqlite:///{tmp_dir / (name + '.sqlite3')}"
    if backend == "postgresql":
        _prepared.add(url)
    return Settings(env="test", database_url=url, secret_key="test-secret-not-for-production",
                    facts_dir=tmp_dir / "facts",  # never the project's var/facts
                    media_root=tmp_dir / "media")  # nor its var/media


def prepare_database(backend: str, name: str, tmp_dir: Path) -> Settings:
    settings = empty_database(backend, name, tmp_dir)
    engine = create_db_engine(settings)
    migrate.upgrade(settings, engine)
    engine.dispose()
    return settings


def drop_database(settings: Settings) -> None:
    """Remove a PostgreSQL test database after the run (SQLite files live in pytest's tmp dir)."""
    _drop(settings.database_url)


def _drop(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return
    _prepared.discard(database_url)
    engine = create_engine(make_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    engine.dispose()


def drop_prepared() -> None:
    """Drop every scratch database this process prepared and has not dropped yet."""
    for url in sorted(_prepared):
        _drop(url)
