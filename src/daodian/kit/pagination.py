"""Keyset pagination with a capped page size.

A cursor is the opaque id after which the next page starts; keyset (not OFFSET) keeps deep pages fast.
"""

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


def page_params(
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size (capped by the server).")] = 20,
    cursor: Annotated[str | None, Query(max_length=32, description="`next_cursor` from the previous page.")] = None,
) -> PageParams:
    after_id = None
    if cursor:
        if not cursor.isdecimal() or len(cursor) > 18:
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
