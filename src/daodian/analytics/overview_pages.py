"""经营概况 in the merchant console: the landing figures of today beside the same weekday last week
(analytics.overview), as a page of its own and as a panel the console's landing page loads (htmx)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import PagePrincipal
from daodian.analytics import overview
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.clock import utcnow
from daodian.kit.html.forms import login_redirect
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants

router = APIRouter()


def _context(session, principal, merchant_id: int) -> dict:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    now = utcnow()
    return {"principal": principal, "merchant": merchant, "now": now,
            "figures": overview.merchant_today(session, merchant.id, now)}


@router.get("/merchant/{merchant_id}/overview", response_class=HTMLResponse)
def overview_page(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return render(request, "console/overview.html", _context(session, principal, merchant_id))


@router.get("/merchant/{merchant_id}/overview/panel", response_class=HTMLResponse)
def overview_panel(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return render(request, "console/_overview_panel.html", _context(session, principal, merchant_id))
