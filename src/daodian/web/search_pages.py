"""The consumer search page: the same search as the API (search.service), and, when the page knows where the
shopper is (the "near me" button adds lat/lng from the browser, which reports WGS-84), the stores near them
offering the matched services as a listing with the category page's filter bar, rows and map (web.listings);
without a position, the same listing of their stores across the city, as the service's own page shows it.
It lives in web/ rather than search/ because the listing's figures read orders and records, which sit above
search in the layers."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from daodian.accounts.dependencies import PagePrincipal
from daodian.kit.api.http import DbSession
from daodian.kit.errors import Invalid
from daodian.kit.html.rendering import render
from daodian.search import service
from daodian.search.schemas import SearchResult
from daodian.web import listings

router = APIRouter()

# Nearby stores asked for per matched service: with the first few services, about one listing page.
STORES_PER_SERVICE = listings.MAX_ROWS // service.MAX_STORE_SERVICES


def _cleaned(q: str) -> str:
    """The words as searched and echoed in the page: bounded, printable, trimmed."""
    return "".join(c for c in q[:service.MAX_QUERY_LENGTH] if c.isprintable()).strip()


def _merged(result: SearchResult) -> list[dict]:
    """One list of the stores near you across the matched services: each service's best first, in turn
    (so a second service's nearest store is not pushed below the first's hundredth); a store offering two
    of them appears once, where it came first."""
    groups = [[item.model_dump(mode="json") for item in group.items] for group in result.stores]
    seen, merged = set(), []
    for place in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if place < len(group) and group[place]["store"]["id"] not in seen:
                seen.add(group[place]["store"]["id"])
                merged.append(group[place])
    return merged[:listings.MAX_ROWS]


def _citywide(session: Session, result: SearchResult) -> list[listings.Row]:
    """Without a position: the matched services' public stores across the city, as each service's page
    (/sc/<code>) lists them without one; a store offering two of them appears once. refine() then orders them
    (智能: the weighted rating)."""
    seen, rows = set(), []
    for match in result.service_categories[:service.MAX_STORE_SERVICES]:
        for row in listings.category_rows(session, match.code):
            if row.store["id"] not in seen and len(rows) < listings.MAX_ROWS:
                seen.add(row.store["id"])
                rows.append(row)
    return rows


def _search(request: Request, session: Session, q: str, query: listings.ListingQuery) -> SearchResult | None:
    if not q:
        return None
    finder = None
    if query.near is not None:
        def finder(category_code: str, limit: int) -> list[dict]:
            return listings.near_items(request, session, category_code, query, limit)
    try:
        return service.search(session, service.index_of(request.app), q, find_stores=finder,
                              stores_per_service=STORES_PER_SERVICE)
    except Invalid:
        return None  # nothing searchable in it: shown as "nothing found"


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, session: DbSession, principal: PagePrincipal, q: str = "") -> HTMLResponse:
    q = _cleaned(q)
    query = listings.parse(request.query_params)
    result = _search(request, session, q, query)
    rows = []
    if result is not None and query.near is not None:
        rows = listings.refine(listings.enrich(session, listings.rows_from_items(_merged(result))), query)
    elif result is not None and result.service_categories:
        rows = listings.refine(listings.enrich(session, _citywide(session, result)), query)
    return render(request, "search/index.html", {
        "principal": principal, "q": q, "result": result, "near": query.near,
        **listings.page_context("/search", {"q": q}, query, rows, request.app.state.settings),
    })
