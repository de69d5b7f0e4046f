"""Mounts every domain's JSON routes under /api/v1."""

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from daodian.accounts.endpoints import router as accounts_router
from daodian.catalog.endpoints import router as catalog_router
from daodian.kit.errors import ERROR_RESPONSES
from daodian.kit.http import DbSession, access
from daodian.merchants.endpoints import router as merchants_router

API_PREFIX = "/api/v1"


class Health(BaseModel):
    status: str
    database: str


health_router = APIRouter(tags=["health"])


@health_router.get("/health", response_model=Health, openapi_extra=access("public"))
def health(session: DbSession) -> Health:
    """Liveness and database reachability."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", database=session.get_bind().dialect.name)


def build_api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for router in (health_router, accounts_router, merchants_router, catalog_router):
        api.include_router(router)
    return api
