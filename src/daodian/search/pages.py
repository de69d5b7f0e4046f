"""The consumer search page: the same search as the API, with stores near the shopper when the page
knows where they are (the "near me" button adds lat/lng from the browser, which reports WGS-84)."""

import math

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from daodian.accounts.dependencies import PagePrincipal
from daodian.geo.datum import Datum
from daodian.kit.api.http import DbSession
from daodian.kit.errors import Invalid
from daodian.kit.html.rendering import render
from daodian.linkage.nearest import store_view_finder
from daodian.linkage.schemas import Near
from daodian.search import service

router = APIRouter()


def _near(lat: str | None, lng: str | None, datum: str | None) -> Near | None:
    """Where the shopper is, or None for anything missing or malformed (a page never fails for it)."""
    try:
        la, ln = float(lat or ""), float(lng or "")
    except ValueError:
        return None
    if not (math.isfinite(la) and math.isfinite(ln) and -90 <= la <= 90 and -180 <= ln <= 180):
        return None
    return Near(la, ln, datum if datum in set(Datum) else Datum.WGS84)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, session: DbSession, principal: PagePrincipal, q: str = "",
                lat: str | None = None, lng: str | None = None, datum: str | None = None) -> HTMLResponse:
    q = "".join(c for c in q[:service.MAX_QUERY_LENGTH] if c.isprintable()).strip()  # also echoed in the page
    near = _near(lat, lng, datum)
    result = None
    if q:
        try:
            result = service.search(session, service.index_of(request.app), q,
                                    find_stores=store_view_finder(request, session, near))
        except Invalid:
            result = None  # nothing searchable in it: shown as "nothing found"
    return render(request, "search/index.html", {
        "principal": principal, "q": q, "result": result, "near": near,
    })
