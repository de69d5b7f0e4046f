"""The merchant console's members-by-tier page: counts only, a count below the privacy threshold withheld
("fewer than N"). Same service and authorization as GET /api/v1/merchants/{id}/tiers/summary."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import PagePrincipal
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.html.forms import login_redirect
from daodian.kit.html.rendering import render
from daodian.loyalty import tiers
from daodian.loyalty.models import merchant_scope
from daodian.merchants import service as merchants

router = APIRouter()


@router.get("/merchant/{merchant_id}/members", response_class=HTMLResponse)
def members_by_tier(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    counts = tiers.summary(session, merchant_scope(merchant.id), request.app.state.settings.privacy_min_group)
    return render(request, "loyalty/members.html", {"merchant": merchant, "counts": counts})
