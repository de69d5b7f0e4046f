"""The one seam between links/search and the nearby ranking: "nearest well-ranked stores for a service".

`nearest_stores` asks this process's nearby index (nearby.index, on app.state) exactly as
`GET /stores/nearby` does, so links and search rank stores the same explainable way: listed stores
only, score = distance + rating + popularity + open now, promotions labelled and capped.
"""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.catalog import service as catalog
from daodian.geo.datum import Datum, to_wgs84
from daodian.linkage.schemas import Near, NearbyStore
from daodian.linkage.service import StoreFinder
from daodian.merchants import stores as store_rules
from daodian.merchants.models import Store
from daodian.nearby import index as nearby
from daodian.taxonomy.models import ServiceCategory

RADIUS_M = 20_000  # a city district or two; the ranking halves distance points every kilometre anyway


def near_params(
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False, description="Consumer latitude.")] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False, description="Consumer longitude.")] = None,
    datum: Annotated[Datum, Query(description="Datum of lat/lng: wgs84 (GPS, the default), gcj02, bd09.")] = Datum.WGS84,
) -> Near | None:
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:  # reported like any other invalid parameter
        missing = "lng" if lng is None else "lat"
        raise RequestValidationError([{"loc": ("query", missing), "type": "value_error",
                                       "msg": "Value error, give both lat and lng, or neither"}])
    return Near(lat, lng, datum)


NearParams = Annotated[Near | None, Depends(near_params)]


def store_finder(request: Request, session: Session, near: Near | None) -> StoreFinder | None:
    """A finder bound to this request and place, or None when the consumer gave no place."""
    if near is None:
        return None
    return lambda category_code, limit: nearest_stores(request, session, near, category_code, limit)


def nearest_stores(request: Request, session: Session, near: Near, category_code: str, limit: int) -> list[NearbyStore]:
    index = nearby.index_for(request.app.state, session)
    index.refresh(session)
    category_ids = catalog.subtree_ids(session, ServiceCategory, category_code)
    result = index.search(*to_wgs84(near.lat, near.lng, near.datum), RADIUS_M, category_ids=category_ids,
                          open_only=False, limit=limit)
    found = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_([h.store_id for h in result.hits])))}
    hits = [h for h in result.hits if h.store_id in found]  # deleted since the index last looked
    reads = store_rules.store_reads(session, [found[h.store_id] for h in hits])
    return [NearbyStore(store=read, distance_m=round(h.distance_m), open_now=h.open_now, score=h.score,
                        score_parts=h.score_parts, promoted=h.promoted) for h, read in zip(hits, reads)]
