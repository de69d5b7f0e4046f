"""Test harness: every test runs against a real database, SQLite or PostgreSQL (`--db`).

Each test gets a connection inside a transaction that is rolled back afterwards; the app under
test shares that connection, and its commits become savepoint releases.
"""

import os

os.environ.setdefault("DAODIAN_ENV", "test")
os.environ.setdefault("DAODIAN_SECRET_KEY", "test-secret-not-for-production")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from daodian import bootstrap  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory  # noqa: E402
from tests.factories import auth, make_shop, make_user  # noqa: E402
from tests.support.databases import drop_database, drop_prepared, prepare_database  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402
from tests.support.shared_app import shared_app  # noqa: E402

bootstrap.wire()  # the domain event handlers, as the app and the CLI wire them


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default=os.environ.get("DAODIAN_TEST_DB", "sqlite"), choices=["sqlite", "postgresql"],
                     help="Database backend for this run.")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_prepared()  # scratch PostgreSQL databases of module fixtures (demo CLI, history, nearby processes)


def pytest_report_header(config: pytest.Config) -> str:
    return f"daodian database leg: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def settings(backend, tmp_path_factory):
    settings = prepare_database(backend, "daodian_test", tmp_path_factory.mktemp("db"))
    yield settings
    drop_database(settings)


@pytest.fixture(scope="session")
def engine(settings):
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection):
    factory = make_session_factory(connection)
    factory.configure(join_transaction_mode="create_savepoint")
    return factory


@pytest.fixture
def db(session_factory) -> Session:
    """A session for arranging and checking data; flushes are visible to the app under test."""
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def app(settings, session_factory):
    """The app under test: one app for the whole run (building one costs half a second), with fresh state
    bound to this test's connection (tests.support.shared_app)."""
    with shared_app().bound(settings, session_factory) as app:
        yield app


@pytest.fixture
def client(app) -> TestClient:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="session")
def live_server(backend, tmp_path_factory) -> LiveServer:
    """A real uvicorn server on its own database, for browsers and parallel clients."""
    settings = prepare_database(backend, "daodian_test_live", tmp_path_factory.mktemp("live"))
    server = LiveServer(settings)
    server.start()
    yield server
    server.stop()
    drop_database(settings)


# --- people and a shop, for the tests that need no particular prices (others define their own `shop`) ---


@pytest.fixture
def shop(db):
    return make_shop(db)


@pytest.fixture
def consumer(db):
    return make_user(db, name="顾客")


@pytest.fixture
def me(db, consumer) -> dict:
    """The consumer's auth headers."""
    return auth(db, consumer)
