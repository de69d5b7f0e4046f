"""Request-scoped dependencies shared by every domain's routes."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from daodian.kit.db import unit_of_work
from daodian.kit.ids import MAX_ID

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    # Reads take no write lock on SQLite; everything else locks up front (see kit.db).
    with unit_of_work(request.app.state.session_factory, read_only=request.method in READ_METHODS) as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is never reported as success.
DbSession = Annotated[Session, Depends(get_session, scope="function")]

# Route id segments as `{store_id:int}`: then only digits reach the route, and a literal path beside
# it (`/stores/nearby`) is never taken for an id by the other methods (`PATCH /stores/nearby`).
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def access(rule: str) -> dict:
    """Declare who may call a route: "public", "authenticated", "operator", "self" or "merchant:<action>".

    Enforcement happens in the services (accounts.authz); the authorization matrix test holds every
    route to what it declares here, and fails for a route that declares nothing.

    A public route adds the empty security requirement `{}` to whatever FastAPI derives from its
    dependencies, so the schema says a bearer token is optional there rather than required.
    """
    extra: dict = {"x-access": rule}
    if rule == "public":
        extra["security"] = [{}]
    return extra
