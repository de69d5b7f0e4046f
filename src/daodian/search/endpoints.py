from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator

from daodian.kit.api.http import DbSession, access
from daodian.linkage.nearest import NearParams, store_finder
from daodian.search import service
from daodian.search.schemas import SearchResult

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResult, openapi_extra=access("public"))
def search(request: Request, session: DbSession, near: NearParams,
           q: Annotated[str, Query(min_length=1, max_length=service.MAX_QUERY_LENGTH, pattern=r"\S",
                                   description="Chinese, pinyin (luntai), initials (lt) or English."),
                        AfterValidator(service.searchable)],
           limit: Annotated[int, Query(ge=1, le=50, description="Products to return.")] = 20,
           stores_per_service: Annotated[int, Query(ge=1, le=10)] = 3) -> SearchResult:
    """Products, product categories and service categories matching `q`; with `lat`/`lng`, also the
    nearest stores for the services matched or linked from what matched ("轮胎" -> tyre fitting)."""
    return service.search(session, service.index_of(request.app), q,
                          find_stores=store_finder(request, session, near), limit=limit,
                          stores_per_service=stores_per_service)
