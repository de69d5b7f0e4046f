"""Liveness and readiness for load balancers and orchestrators.

- `GET /api/v1/health/live`: the process answers (no database work): restart it when this fails.
- `GET /api/v1/health/ready`: send it traffic only when this is 200: the database answers, its schema is at
  the migrations' head (a server started before `daodian db upgrade` finished is not ready), and this
  process's in-memory indexes (nearby, search) are loaded. Otherwise 503 `not_ready`, saying which check failed.
"""

from functools import cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from daodian.kit.api.http import access
from daodian.kit.api.scopes import ANY_APP, declare
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

router = APIRouter(tags=["health"])
declare(router, ANY_APP)  # the scopes apps' tokens need here (kit.api.scopes)


class NotReady(DomainError):
    status = 503
    code = "not_ready"
    message = "This server is not ready for traffic yet."


class Liveness(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, bool]


@cache  # the migrations on disk do not change under a running process
def _head_revisions() -> frozenset[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return frozenset(script.get_heads())


def readiness_checks(request: Request) -> dict[str, bool]:
    state = request.app.state
    checks = {"database": False, "migrations": False,
              "nearby_index": getattr(state, "nearby", None) is not None,
              "search_index": getattr(state, "search_index", None) is not None}
    try:
        with unit_of_work(state.session_factory, read_only=True) as session:
            session.execute(text("SELECT 1"))
            checks["database"] = True
            current = set(MigrationContext.configure(session.connection()).get_current_heads())
            checks["migrations"] = current == _head_revisions()
    except SQLAlchemyError:
        pass
    return checks


@router.get("/health/live", response_model=Liveness, openapi_extra=access("public"))
def live() -> Liveness:
    """The process is up and serving (no database work)."""
    return Liveness(status="ok")


@router.get("/health/ready", response_model=Readiness, openapi_extra=access("public"),
            responses={503: {"description": "Not ready: `details` says which checks failed."}})
def ready(request: Request) -> Readiness:
    """Ready for traffic: database reachable, schema at the migrations' head, indexes loaded."""
    checks = readiness_checks(request)
    if not all(checks.values()):
        raise NotReady(details=checks)
    return Readiness(status="ready", checks=checks)
