"""The one seam between links/search and the nearby ranking: "nearest well-ranked stores for a service".

`nearest_stores` asks this process's nearby index (nearby.index, on app.state) exactly as
`GET /stores/nearby` does, so links and search rank stores the same explainable way: listed stores
only, score = distance + rating + popularity + open now, promotions labelled and capped.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from daodian.geo.datum import Datum, to_wgs84
from daodian.kit.errors import Invalid
from daodian.linkage.schemas import Near, NearbyStore
from daodian.linkage.service import StoreFinder
from daodian.merchants import stores as store_rules
from daodian.nearby import index as nearby
from daodian.nearby import process as nearby_process
from daodian.nearby import views

RADIUS_M = 20_000  # a city district or two; the ranking halves distance points every kilometre anyway


class LocationIncomplete(Invalid):
    code, message = "location_incomplete", "Give both lat and lng, or neither."


# OpenAPI has no way to say "both or neither" of two query parameters: their descriptions say it, with
# the error code a client gets, so the published schema states the rule the server applies.
_PAIRED = " Give it together with {other}: one without the other is 422 `location_incomplete`."


async def near_params(  # async: no IO, so FastAPI need not hop to a worker thread for it
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False,
                                       description="Consumer latitude." + _PAIRED.format(other="lng"))] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False,
                                       description="Consumer longitude." + _PAIRED.format(other="lat"))] = None,
    datum: Annotated[Datum, Query(description="Datum of lat/lng: wgs84 (GPS, the default), gcj02, bd09.")] = Datum.WGS84,
) -> Near | None:
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        raise LocationIncomplete(details={"missing": "lng" if lng is None else "lat"})
    return Near(lat, lng, datum)


NearParams = Annotated[Near | None, Depends(near_params)]


def store_finder(request: Request, session: Session, near: Near | None) -> StoreFinder | None:
    """A finder bound to this request and place, or None when the consumer gave no place."""
    if near is None:
        return None
    return lambda category_code, limit: nearest_stores(request, session, near, category_code, limit)


def store_view_finder(request: Request, session: Session, near: Near | None) -> Callable[[str, int], list[dict]] | None:
    """`store_finder` giving NearbyStore dicts, for responses serialised at once."""
    if near is None:
        return None
    return lambda category_code, limit: views.items(session, _hits(request, session, near, category_code, limit))


def nearest_stores(request: Request, session: Session, near: Near, category_code: str, limit: int) -> list[NearbyStore]:
    hits = _hits(request, session, near, category_code, limit)
    # Stores deleted since the index last looked are left out.
    reads = {r.id: r for r in store_rules.store_reads_by_id(session, [h.store_id for h in hits],
                                                               open_now={h.store_id: h.open_now for h in hits})}
    return [NearbyStore(store=reads[h.store_id], distance_m=round(h.distance_m), open_now=h.open_now, score=h.score,
                        score_parts=h.score_parts, promoted=h.promoted) for h in hits if h.store_id in reads]


def _hits(request: Request, session: Session, near: Near, category_code: str, limit: int) -> list[nearby.Hit]:
    index = nearby_process.index_for(request.app.state, session)
    index.refresh(session)
    category_ids = index.categories.subtree(session, category_code)
    return index.search(*to_wgs84(near.lat, near.lng, near.datum), RADIUS_M, category_ids=category_ids,
                        open_only=False, limit=limit).hits
