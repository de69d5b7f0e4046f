"""Nearby search (public) and paid promotions (operators). Mounted before the merchants router,
so that `/stores/nearby` is not taken for `/stores/{store_id}`."""

from functools import lru_cache
from typing import Annotated

import pydantic_core
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from daodian.accounts.authz import Principal, require_operator
from daodian.accounts.dependencies import LoggedIn
from daodian.geo import ranking
from daodian.geo.datum import Datum, to_wgs84
from daodian.kit.api.http import DbSession, ObjectId, QueryId, access
from daodian.kit.api.pagination import Page, Paging
from daodian.kit.api.scopes import declare
from daodian.merchants import promotions
from daodian.merchants.schemas import LocationRead, StoreRead
from daodian.nearby import index as nearby
from daodian.nearby import process as nearby_process

router = APIRouter()
declare(router, "map:read")  # the scopes apps' tokens need here (kit.api.scopes)

MAX_RADIUS_M = 50_000


class ScorePart(BaseModel):
    value: float = Field(description="Raw input: metres, Bayesian rating (1-5), visits in 90 days, or 1/0 for open.")
    normalized: float = Field(description="The input mapped to 0..1.")
    weight: float
    points: float = Field(description="weight * normalized; the score is the sum of the points.")


class NearbyItem(BaseModel):
    store: StoreRead
    distance_m: int = Field(description="Great-circle distance from the origin, in metres.")
    open_now: bool
    score: float = Field(description="0..1, the sum of the parts' points; see docs/ranking.md.")
    score_parts: dict[str, ScorePart]
    promoted: bool = Field(description="Lifted into a promotion slot because of a paid promotion.")


class RankingInfo(BaseModel):
    weights: dict[str, float]
    distance_half_m: float = Field(description="Every this many metres halve the distance points.")
    rating_prior_mean: float = Field(description="m: mean rating of all rated stores (capped).")
    rating_prior_weight: float = Field(description="C: the prior counts as this many reviews.")
    popularity_full: int = Field(description="Visits in 90 days that earn full popularity points.")
    promotion_slots: str


class NearbyPage(BaseModel):
    items: list[NearbyItem]
    origin: LocationRead = Field(description="The query point in WGS-84.")
    datum: Datum = Field(description="The datum the query point was given in.")
    radius_m: int
    ranking: RankingInfo


@lru_cache(maxsize=64)
def _ranking_info(prior: float) -> dict:
    return RankingInfo(
        weights=ranking.WEIGHTS, distance_half_m=ranking.DISTANCE_HALF_M, rating_prior_mean=round(prior, 4),
        rating_prior_weight=ranking.PRIOR_WEIGHT, popularity_full=ranking.POPULARITY_FULL,
        promotion_slots=f"positions {ranking.PROMOTION_FIRST_SLOT + 1}, "
                        f"{ranking.PROMOTION_FIRST_SLOT + 1 + ranking.PROMOTION_EVERY}, ... at most",
    ).model_dump(mode="json")


@router.get("/stores/nearby", response_model=NearbyPage, tags=["merchants"], openapi_extra=access("public"))
def nearby_stores(
    request: Request, session: DbSession,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="Latitude of the origin.")],
    lng: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, description="Longitude of the origin.")],
    datum: Annotated[Datum, Query(description="Datum of lat/lng: wgs84 (GPS), gcj02 (AMap/Tencent), bd09 (Baidu).")],
    service_category: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$",
                                                  description="A service category; a group means any of its services.")] = None,
    radius_m: Annotated[int, Query(ge=1, le=MAX_RADIUS_M)] = 3000,
    open_now: Annotated[bool, Query(description="true: only stores open now; false: no filter.")] = False,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    sort: Annotated[nearby.SortBy, Query(description=(
        "score: best first by the documented score, with labelled promotion slots (docs/ranking.md); "
        "distance: nearest first (ties by store id), no promotion slots; every result still shows its score."))
    ] = nearby.SortBy.SCORE,
) -> Response:
    """Listed stores near a point, ranked by distance, rating, popularity and opening status.

    Every result explains its score in `score_parts`. Paid promotions are labelled `promoted` and
    take at most one of any five consecutive results. With `sort=distance`, the nearest stores in the
    radius, nearest first.
    """
    index = nearby_process.index_for(request.app.state, session)
    generation = index.views.generation  # before this request reads anything (nearby.store_json)
    category_ids = index.categories.subtree(session, service_category) if service_category else None
    index.refresh(session)
    origin = to_wgs84(lat, lng, datum)
    result = index.search(*origin, radius_m, category_ids=category_ids, open_only=open_now, limit=limit, sort=sort)
    rest = {"origin": {"lat": origin[0], "lng": origin[1], "datum": "wgs84"}, "datum": datum.value,
            "radius_m": radius_m, "ranking": _ranking_info(result.prior_mean)}
    # Built as JSON at once, in the schema above (tests/nearby checks it against the models): validating
    # twenty stores' worth of models again costs more than finding them; the stores' views are kept as JSON.
    body = b'{"items":' + index.views.items_json(session, result.hits, result.slots, generation) + b"," + pydantic_core.to_json(rest)[1:]
    return Response(body, media_type="application/json")


# --- promotions (operators) -------------------------------------------------------------------


async def _operator(principal: LoggedIn) -> Principal:
    # Checked as a dependency, so a caller without rights gets 401/403 before any body validation. Async:
    # it does no I/O, and FastAPI would run a plain `def` dependency in a worker thread of its own.
    require_operator(principal)
    return principal


OperatorPrincipal = Annotated[Principal, Depends(_operator)]


@router.post("/admin/promotions", status_code=status.HTTP_201_CREATED, response_model=promotions.PromotionRead,
             tags=["admin"], openapi_extra=access("operator"))
def create_promotion(body: promotions.PromotionCreate, session: DbSession,
                     principal: OperatorPrincipal) -> promotions.PromotionRead:
    """Sell a store a promotion window. Promoted results are labelled and capped (docs/ranking.md)."""
    return promotions.promotion_read(promotions.create_promotion(session, principal, body))


@router.get("/admin/promotions", response_model=Page[promotions.PromotionRead], tags=["admin"],
            openapi_extra=access("operator"))
def list_promotions(session: DbSession, principal: OperatorPrincipal, paging: Paging, store_id: QueryId = None,
                    include_inactive: Annotated[bool, Query(description="Also ended and cancelled ones.")] = False,
                    ) -> Page[promotions.PromotionRead]:
    rows, cursor = promotions.list_promotions(session, principal, paging, store_id=store_id,
                                              include_inactive=include_inactive)
    return Page(items=rows, next_cursor=cursor)


@router.delete("/admin/promotions/{promotion_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["admin"],
               openapi_extra=access("operator"))
def cancel_promotion(promotion_id: ObjectId, session: DbSession, principal: OperatorPrincipal) -> Response:
    """Cancel a promotion now; the record stays (listed with include_inactive)."""
    promotions.cancel_promotion(session, principal, promotion_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

