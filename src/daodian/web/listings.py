"""Store listings with a filter bar, shared by the category page and search: where the shopper is (when the
page knows), how far (500 m / 1 km / 3 km / the whole city), the order (smart / distance / rating / 人均 /
sales), open now, a range of 人均. Stores near the shopper come from the nearby index, ranked as the API
ranks them (promotions labelled); without a position, from the category's public stores citywide, the smart
order then being a weighted (Bayesian) rating."""

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session

from daodian.geo.datum import from_wgs84, to_wgs84
from daodian.kit.api.pagination import PageParams
from daodian.linkage.nearby_block import near_of
from daodian.linkage.schemas import Near
from daodian.media import service as media
from daodian.media.models import OwnerKind
from daodian.merchants import stores
from daodian.nearby import index as nearby
from daodian.nearby import process as nearby_process
from daodian.nearby import views
from daodian.web.listing_figures import figures_of

CITY_RADIUS_M = 50_000  # 全城: the largest radius the nearby search takes
DISTANCES = {"500": 500, "1000": 1000, "3000": 3000, "city": CITY_RADIUS_M}
MAX_ROWS = 100  # one page of a listing; the map shows the same stores
RATING_PRIOR, RATING_PRIOR_WEIGHT = 4.0, 5  # smart order without a position: a Bayesian rating


class SortKey(StrEnum):
    SMART = "smart"
    DISTANCE = "distance"
    RATING = "rating"
    PRICE = "price"  # 人均, low to high
    SALES = "sales"


@dataclass(frozen=True)
class ListingQuery:
    near: Near | None = None
    distance: str = "city"
    sort: SortKey = SortKey.SMART
    open_now: bool = False
    price_min_fen: int | None = None
    price_max_fen: int | None = None

    def args(self, **changes) -> dict[str, str]:
        """The query string of this listing with some parts changed (the filter bar's links)."""
        q = replace(self, **changes)
        out = {"distance": q.distance, "sort": SortKey(q.sort).value}
        if q.near:
            out |= {"lat": f"{q.near.lat:.6f}", "lng": f"{q.near.lng:.6f}", "datum": q.near.datum.value}
        if q.open_now:
            out["open"] = "1"
        if q.price_min_fen is not None:
            out["price_min"] = str(q.price_min_fen // 100)
        if q.price_max_fen is not None:
            out["price_max"] = str(q.price_max_fen // 100)
        return out


def _yuan(value: str | None) -> int | None:
    try:
        yuan = int(value or "")
    except ValueError:
        return None
    return yuan * 100 if 0 <= yuan <= 1_000_000 else None


def parse(params) -> ListingQuery:
    """The filter bar's state from a query string; unknown values fall back to the defaults."""
    sort = params.get("sort")
    distance = params.get("distance")
    return ListingQuery(near=near_of(params), distance=distance if distance in DISTANCES else "city",
                        sort=SortKey(sort) if sort in set(SortKey) else SortKey.SMART,
                        open_now=params.get("open") in ("1", "true", "on"),
                        price_min_fen=_yuan(params.get("price_min")), price_max_fen=_yuan(params.get("price_max")))


@dataclass
class Row:
    store: dict
    distance_m: int | None = None
    promoted: bool = False
    rank: int = 0  # place in the source's own order (the nearby score, or the category's)
    avg_spend_fen: int | None = None
    sold_30d: int = 0
    cover: dict | None = None
    tags: list = field(default_factory=list)

    @property
    def open_now(self) -> bool:
        return bool(self.store.get("open_now"))


def near_items(request: Request, session: Session, category_code: str | None, query: ListingQuery,
               limit: int = MAX_ROWS) -> list[dict]:
    """The stores near the shopper within the chosen distance (open ones only when asked), as NearbyStore
    dicts in the nearby ranking's order; also search's finder of stores near you (web.search_pages)."""
    index = nearby_process.index_for(request.app.state, session)
    index.refresh(session)
    category_ids = index.categories.subtree(session, category_code) if category_code else None
    lat, lng = to_wgs84(query.near.lat, query.near.lng, query.near.datum)
    by = nearby.SortBy.DISTANCE if query.sort == SortKey.DISTANCE else nearby.SortBy.SCORE
    found = index.search(lat, lng, DISTANCES[query.distance], category_ids=category_ids, open_only=query.open_now,
                         limit=limit, sort=by)
    return views.items(session, found.hits)


def _near_rows(request: Request, session: Session, category_code: str | None, query: ListingQuery) -> list[Row]:
    return rows_from_items(near_items(request, session, category_code, query))


def category_rows(session: Session, category_code: str | None) -> list[Row]:
    """A category's public stores citywide, for a page without the shopper's position (also search's)."""
    reads, _ = stores.list_stores(session, PageParams(limit=MAX_ROWS, after_id=None), merchant_id=None,
                                  category_code=category_code, public_only=True)
    return [Row(store=read.model_dump(mode="json"), rank=i) for i, read in enumerate(reads)]


def rows_from_items(items: list[dict]) -> list[Row]:
    """Rows of nearby results already found (NearbyStore dicts, e.g. search's stores near you)."""
    return [Row(store=item["store"], distance_m=item["distance_m"], promoted=item["promoted"], rank=i)
            for i, item in enumerate(items)]


def enrich(session: Session, rows: list[Row]) -> list[Row]:
    ids = [row.store["id"] for row in rows]
    figures, covers = figures_of(session, ids), media.covers_of(session, OwnerKind.STORE, ids)
    for row in rows:
        store_id = row.store["id"]
        row.avg_spend_fen, row.sold_30d = figures[store_id].avg_spend_fen, figures[store_id].sold_30d
        row.cover = covers[store_id].model_dump(mode="json") if store_id in covers else None
        row.tags = row.store.get("categories") or []
    return rows


def _bayes(row: Row) -> float:
    count = row.store.get("rating_count") or 0
    return (RATING_PRIOR * RATING_PRIOR_WEIGHT + (row.store.get("rating_avg") or 0) * count) / (RATING_PRIOR_WEIGHT + count)


def _sort_key(sort: SortKey, has_near: bool):
    last = math.inf
    if sort == SortKey.DISTANCE and has_near:
        return lambda r: (r.distance_m, r.store["id"])
    if sort == SortKey.RATING:
        return lambda r: (-(r.store.get("rating_avg") or 0), -(r.store.get("rating_count") or 0), r.store["id"])
    if sort == SortKey.PRICE:
        return lambda r: (last if r.avg_spend_fen is None else r.avg_spend_fen, r.store["id"])
    if sort == SortKey.SALES:
        return lambda r: (-r.sold_30d, r.store["id"])
    if has_near:  # the nearby ranking's own order, promotion slots included
        return lambda r: r.rank
    return lambda r: (-_bayes(r), -r.sold_30d, r.store["id"])


def refine(rows: list[Row], query: ListingQuery) -> list[Row]:
    """Filter by what the source did not (open now, 人均 range) and put in the chosen order."""
    kept = [r for r in rows if (not query.open_now or r.open_now)
            and (query.price_min_fen is None or (r.avg_spend_fen is not None and r.avg_spend_fen >= query.price_min_fen))
            and (query.price_max_fen is None or (r.avg_spend_fen is not None and r.avg_spend_fen <= query.price_max_fen))]
    ordered = sorted(kept, key=_sort_key(query.sort, query.near is not None))
    if query.sort != SortKey.SMART or query.near is None:
        for row in ordered:  # a promotion buys a place in the smart order only; elsewhere it is just a store
            row.promoted = False
    return ordered


def listing(request: Request, session: Session, category_code: str | None, query: ListingQuery) -> list[Row]:
    rows = _near_rows(request, session, category_code, query) if query.near else category_rows(session, category_code)
    return refine(enrich(session, rows), query)


def page_context(path: str, keep: dict[str, str], query: ListingQuery, rows: list[Row], settings) -> dict:
    """What templates/_listing.html needs."""
    def href(**changes) -> str:
        return f"{path}?{urlencode({**keep, **query.args(**changes)})}"

    return {"listing_path": path, "listing_keep": keep, "listing_href": href, "query": query, "rows": rows,
            "map": map_data(rows, query, settings)}


def map_data(rows: list[Row], query: ListingQuery, settings) -> dict:
    """What the map script needs: tiles, and the stores and shopper in the tiles' datum (stores are kept in
    WGS-84; AMap tiles are drawn in GCJ-02, so unconverted markers would sit some hundred metres off)."""
    datum = settings.map_tile_datum

    def point(lat: float, lng: float) -> list[float]:
        lat, lng = from_wgs84(lat, lng, datum)
        return [round(lat, 6), round(lng, 6)]

    viewer = None
    if query.near:
        viewer = point(*to_wgs84(query.near.lat, query.near.lng, query.near.datum))
    markers = [{"id": r.store["id"], "name": r.store["name"], "at": point(r.store["location"]["lat"], r.store["location"]["lng"]),
                "promoted": r.promoted} for r in rows]
    return {"tiles": {"url": settings.map_tile_url, "subdomains": settings.map_tile_subdomains,
                      "datum": datum, "attribution": settings.map_attribution},
            "viewer": viewer, "markers": markers}
