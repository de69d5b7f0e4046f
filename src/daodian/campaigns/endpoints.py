"""Segment campaign routes (merchant console) and the consumer's marketing preference (PIPL Art. 24)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select

from daodian.accounts import marketing_preferences as preferences
from daodian.accounts.authz import Action
from daodian.accounts.dependencies import LoggedIn
from daodian.accounts.schemas import PreferenceIO
from daodian.campaigns import posts as post_campaigns
from daodian.campaigns import service as campaigns
from daodian.campaigns.models import Campaign
from daodian.campaigns.schemas import AudienceIn, AudienceRead, CampaignIn, CampaignRead, InactiveDays, Segment
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.pagination import Page, Paging, fetch_page
from daodian.kit.api.scopes import declare
from daodian.kit.errors import Invalid
from daodian.merchants import service as merchants

router = APIRouter(tags=["campaigns"])
declare(router, "marketing:read", "marketing:write")  # the scopes apps' tokens need here (kit.api.scopes)


def _threshold(request: Request) -> int:
    return request.app.state.settings.privacy_min_group


@router.get("/merchants/{merchant_id}/audience", response_model=AudienceRead,
            openapi_extra=access("merchant:console.view"))
def audience_size(merchant_id: ObjectId, segment: Annotated[Segment, Query()], session: DbSession,
                  principal: LoggedIn, request: Request,
                  inactive_days: Annotated[InactiveDays | None, Query()] = None) -> AudienceRead:
    """How many of your members a segment holds (never who). Below the privacy threshold the size is
    null and shown as "fewer than N"; such a segment cannot be targeted."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    if (segment == "inactive") != (inactive_days is not None):
        raise Invalid("inactive_days is required for the inactive segment, and only there.",
                      code="inactive_days_mismatch")  # a cross-field rule: a stable code of its own
    data = AudienceIn(segment=segment, inactive_days=inactive_days)
    return campaigns.audience(session, principal, merchant_id, data, _threshold(request))


@router.post("/merchants/{merchant_id}/campaigns", status_code=status.HTTP_201_CREATED, response_model=CampaignRead,
             openapi_extra=access("merchant:catalog.manage"))
def send_campaign(merchant_id: ObjectId, body: CampaignIn, session: DbSession, principal: LoggedIn,
                  request: Request) -> CampaignRead:
    """Send one coupon of your template (`template_id`) to every member of a segment while its stock lasts,
    or your post (`post_id`) to their feeds; exactly one of the two (422 otherwise).
    Errors: `audience_too_small` (409: below the privacy threshold), `audience_withheld` (409),
    `coupon_template_not_found` / `post_not_found` (404)."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    send = post_campaigns.send_post if body.post_id is not None else campaigns.send
    campaign = send(session, principal, merchant_id, body, _threshold(request))
    return CampaignRead.model_validate(campaign, from_attributes=True)


@router.get("/merchants/{merchant_id}/campaigns", response_model=Page[CampaignRead],
            openapi_extra=access("merchant:console.view"))
def list_campaigns(merchant_id: ObjectId, session: DbSession, principal: LoggedIn,
                   paging: Paging) -> Page[CampaignRead]:
    """Your campaigns with their audience sizes and coupons issued."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    rows, cursor = fetch_page(session, select(Campaign).where(Campaign.merchant_id == merchant_id), Campaign.id,
                              paging)
    return Page(items=[CampaignRead.model_validate(c, from_attributes=True) for c in rows], next_cursor=cursor)


@router.get("/me/marketing-preferences", response_model=PreferenceIO, openapi_extra=access("authenticated"))
def my_preference(session: DbSession, principal: LoggedIn) -> PreferenceIO:
    """Whether you receive personalised recommendations and targeted marketing (default: yes)."""
    return PreferenceIO(personalised=preferences.personalised(session, principal.user_id))


@router.put("/me/marketing-preferences", response_model=PreferenceIO, openapi_extra=access("authenticated"))
def set_preference(body: PreferenceIO, session: DbSession, principal: LoggedIn) -> PreferenceIO:
    """Switch personalised recommendations and targeted marketing off (PIPL Art. 24) or on again.
    Off: no segment campaign reaches you; you still see non-personalised content."""
    return PreferenceIO(personalised=preferences.set_personalised(session, principal.user_id, body.personalised))
