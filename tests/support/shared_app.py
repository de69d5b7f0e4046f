"""One app instance for the whole run, pointed at each test's rolled-back connection.

Building the app costs about half a second (FastAPI compiles every route on include_router), which
is too much for the hundreds of small tests in the authorization matrix and the fuzzer. Each test
gets the app with fresh state — what `create_app` sets and nothing that an earlier test cached on
it (e.g. per-process indexes) — bound to that test's session factory.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State

from daodian.app import create_app
from daodian.kit.settings import Settings

_UNBOUND: sessionmaker[Session] = sessionmaker()  # fails loudly if a request arrives between tests


class SharedApp:
    def __init__(self) -> None:
        self.app: FastAPI = create_app(Settings(env="test", database_url="sqlite://"), session_factory=_UNBOUND)

    @contextmanager
    def bound(self, settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[FastAPI]:
        self.app.state = State({"settings": settings, "session_factory": session_factory})
        try:
            yield self.app
        finally:
            self.app.state = State({"settings": settings, "session_factory": _UNBOUND})

    @contextmanager
    def client(self, settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
        with self.bound(settings, session_factory) as app, TestClient(app, raise_server_exceptions=False) as client:
            yield client


@cache
def shared_app() -> SharedApp:
    return SharedApp()


@pytest.fixture
def api(settings, session_factory) -> Iterator[TestClient]:
    """Like conftest's `client`, on one app shared by the whole run (building an app per test is slow)."""
    with shared_app().client(settings, session_factory) as client:
        yield client
