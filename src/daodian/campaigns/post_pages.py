"""The console page that sends one of a merchant's posts to a segment of its members (a segment campaign with
a post, campaigns.posts): choose the segment, see the audience's size first (never who; "fewer than
N" below the privacy threshold, and then it cannot be sent), then send.

The same services and authorization as the API (`GET /audience`, `POST /campaigns` with `post_id`):
`console.view` to look and size an audience (clerks: read-only), `catalog.manage` to send; another
merchant's staff get 403, another merchant's post 404. A segment is one choice: `inactive:30` is "inactive
for 30 days", the days always from the ladder (audience_guard.INACTIVE_LADDER).
"""

from typing import Annotated, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from daodian.accounts.authz import Action, Principal
from daodian.accounts.dependencies import PagePrincipal
from daodian.campaigns import posts as post_campaigns
from daodian.campaigns import service as campaigns
from daodian.campaigns.audience_guard import INACTIVE_LADDER, key
from daodian.campaigns.models import Campaign
from daodian.campaigns.schemas import AudienceIn, CampaignIn, Segment
from daodian.follows import posts
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, login_redirect, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants

router = APIRouter()

# Every choice of the segment select, in page order: (value, segment, inactive days).
CHOICES = [(key(s, d), s, d) for s in get_args(Segment) for d in (INACTIVE_LADDER if s == "inactive" else (None,))]
_BY_VALUE = {value: (segment, days) for value, segment, days in CHOICES}


def audience_of(value: str | None) -> AudienceIn | None:
    """The audience a segment choice names, or None for anything else (an unknown value, days off the ladder)."""
    if value not in _BY_VALUE:
        return None
    segment, days = _BY_VALUE[value]
    try:
        return AudienceIn(segment=segment, inactive_days=days)
    except ValidationError:
        return None


def _page(request: Request, session, principal: Principal, merchant_id: int, post_id: int, *, choice: str,
          audience=None, error: str | None = None, notice: str | None = None, status: int = 200) -> HTMLResponse:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    post = posts.get_post(session, merchant.id, post_id)  # another merchant's post: 404
    sent = list(session.scalars(select(Campaign).where(Campaign.merchant_id == merchant.id,
                                                       Campaign.post_id == post.id).order_by(Campaign.id.desc())
                                .limit(50)))
    return render(request, "marketing/post_campaign.html", {
        "principal": principal, "merchant": merchant, "post": post, "campaigns": sent, "choices": CHOICES,
        "choice": choice, "audience": audience, "error": error, "notice": notice,
        "can_edit": principal.can(Action.CATALOG_MANAGE, merchant.id)}, status=status)


def _threshold(request: Request) -> int:
    return request.app.state.settings.privacy_min_group


@router.get("/merchant/{merchant_id}/posts/{post_id}/campaign", response_class=HTMLResponse)
def post_campaign_page(merchant_id: ObjectId, post_id: ObjectId, request: Request, session: DbSession,
                       principal: PagePrincipal, segment: Annotated[str | None, Query(max_length=16)] = None,
                       notice: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    """With `segment`, also that audience's size (the "check audience" step before sending)."""
    if not principal.is_authenticated:
        return login_redirect(request)
    merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    audience, error = None, None
    if segment:
        data = audience_of(segment)
        if data is None:
            error = "invalid"
        else:
            audience = campaigns.audience(session, principal, merchant_id, data, _threshold(request))
    return _page(request, session, principal, merchant_id, post_id, choice=segment or "all", audience=audience,
                 error=error, notice=notice, status=422 if error else 200)


@router.post("/merchant/{merchant_id}/posts/{post_id}/campaign", response_class=HTMLResponse)
def send_post_campaign(merchant_id: ObjectId, post_id: ObjectId, request: Request, session: DbSession,
                       principal: PagePrincipal, form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    choice = text(form, "segment", 16)
    data = audience_of(choice)
    if data is None:
        return _page(request, session, principal, merchant.id, post_id, choice="all", error="invalid", status=422)
    threshold = _threshold(request)
    try:
        with session.begin_nested():
            post_campaigns.send_post(session, principal, merchant.id, CampaignIn(
                segment=data.segment, inactive_days=data.inactive_days, post_id=post_id), threshold)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        audience = campaigns.audience(session, principal, merchant.id, data, threshold)
        return _page(request, session, principal, merchant.id, post_id, choice=choice, audience=audience,
                     error=exc.code, status=exc.status)
    return see_other(f"/merchant/{merchant.id}/posts/{post_id}/campaign?notice=sent")
