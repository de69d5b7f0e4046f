from typing import Annotated

import pydantic_core
from fastapi import APIRouter, Query, Request, Response
from pydantic import AfterValidator

from daodian.kit.api.http import DbSession, access
from daodian.kit.api.scopes import declare
from daodian.linkage.nearest import NearParams, store_view_finder
from daodian.search import service
from daodian.search.schemas import SearchResult

router = APIRouter(tags=["search"])
declare(router, "map:read")  # the scopes apps' tokens need here (kit.api.scopes)


@router.get("/search", response_model=SearchResult, openapi_extra=access("public"))
def search(request: Request, session: DbSession, near: NearParams,
           q: Annotated[str, Query(min_length=1, max_length=service.MAX_QUERY_LENGTH, pattern=r"\S",
                                   description="Chinese, pinyin (luntai), initials (lt) or English."),
                        AfterValidator(service.searchable)],
           limit: Annotated[int, Query(ge=1, le=50, description="Products to return.")] = 20,
           stores_per_service: Annotated[int, Query(ge=1, le=10)] = 3) -> Response:
    """Products, product categories and service categories matching `q`; with `lat`/`lng`, also the
    nearest stores for the services matched or linked from what matched ("轮胎" -> tyre fitting)."""
    result = service.search_view(session, service.index_of(request.app), q,
                                 find_stores=store_view_finder(request, session, near), limit=limit,
                                 stores_per_service=stores_per_service)
    # Built as JSON at once, in the SearchResult schema (tests/search check it against the models).
    return Response(pydantic_core.to_json(result), media_type="application/json")
