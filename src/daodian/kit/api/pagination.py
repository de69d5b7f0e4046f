"""Keyset pagination with a capped page size.

A cursor is the opaque id after which the next page starts; keyset (not OFFSET) keeps deep pages fast.
"""

import re
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select
from sqlalchemy.orm import Session

from daodian.kit.errors import Invalid
from daodian.kit.settings import get_settings

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class PageParams(BaseModel):
    limit: int
    after_id: int | None


_CURSOR = re.compile(r"[0-9]{1,18}")


# Async though it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread, a hop that cost
# more than the parsing.
async def page_params(
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size (capped by the server).")] = 20,
    # The format is documented but checked here, so that any junk gets the `invalid_cursor` code.
    cursor: Annotated[str | None, Query(description="`next_cursor` from the previous page.",
                                        json_schema_extra={"pattern": "^[0-9]{1,18}$", "maxLength": 18})] = None,
) -> PageParams:
    after_id = None
    if cursor is not None:
        if not _CURSOR.fullmatch(cursor):
            raise Invalid("The cursor is not one this server handed out.", code="invalid_cursor")
        after_id = int(cursor)
    return PageParams(limit=min(limit, get_settings().page_size_max), after_id=after_id)


def fetch_page(session: Session, stmt: Select, id_column, params: PageParams) -> tuple[list, str | None]:
    """Run `stmt` (selecting entities ordered by nothing else) one keyset page at a time."""
    if params.after_id is not None:
        stmt = stmt.where(id_column > params.after_id)
    rows = list(session.scalars(stmt.order_by(id_column).limit(params.limit + 1)))
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return rows, (str(rows[-1].id) if more and rows else None)


Paging = Annotated[PageParams, Depends(page_params)]
