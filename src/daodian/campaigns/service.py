"""Segment campaigns: a merchant sends coupons to a segment of its own members, sized but never listed.

Members and their segments come from the analytics job's RFM table (`member_segments`, refreshed by
`daodian facts job`): a member is a consumer who bought from the merchant. Segments:
- new: first purchase within the analytics "new" window (segment `new`);
- returning: two or more purchases;
- inactive: no purchase for at least `inactive_days` days (as of the last analytics run);
- high_value: monetary score 4 or 5 of 5 (the top two quintiles of spend at this merchant).
Consumers who switched off personalised marketing (PIPL Art. 24, `marketing_preferences`) are never
in an audience. An audience smaller than the privacy threshold (`DAODIAN_PRIVACY_MIN_GROUP`, default
10) is shown as "fewer than N" and cannot be targeted: a coupon sent to three people tells the
merchant who they are as soon as one of them redeems it. Nor is an audience shown or targeted when a
segment containing it is larger by fewer than N (campaigns.audience_guard: the difference would be
that small group).
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize
from daodian.accounts.models import MarketingPreference
from daodian.analytics.models import MemberSegment
from daodian.campaigns import audience_guard
from daodian.campaigns.errors import AudienceTooSmall, AudienceWithheld
from daodian.campaigns.models import Campaign
from daodian.campaigns.schemas import AudienceIn, AudienceRead, CampaignIn
from daodian.coupons import service as coupons
from daodian.coupons.errors import SoldOut, TemplateNotFound
from daodian.coupons.models import Coupon


def _members_query(merchant_id: int):
    """The merchant's members who may be marketed to (opted-out consumers removed)."""
    m = MemberSegment
    opted_out = select(MarketingPreference.consumer_id).where(MarketingPreference.personalised.is_(False))
    return select(m.consumer_id, m.segment, m.frequency, m.m_score, m.recency_days).where(
        m.merchant_id == merchant_id, m.consumer_id.not_in(opted_out))


def _audience_query(merchant_id: int, data: AudienceIn):
    query = _members_query(merchant_id).with_only_columns(MemberSegment.consumer_id)
    wanted = audience_guard.condition(MemberSegment, data.segment, data.inactive_days)
    return query if wanted is None else query.where(wanted)


def audience(session: Session, principal: Principal, merchant_id: int, data: AudienceIn, threshold: int
             ) -> AudienceRead:
    authorize(principal, Action.CONSOLE_VIEW, merchant_id)
    size, withheld = _released(session, merchant_id, data, threshold)
    if withheld == "too_small":
        return AudienceRead(segment=data.segment, size=None, display=f"fewer than {threshold}", targetable=False,
                            threshold=threshold, withheld=withheld)
    if withheld == "differencing":
        return AudienceRead(segment=data.segment, size=None, display="withheld", targetable=False,
                            threshold=threshold, withheld=withheld)
    return AudienceRead(segment=data.segment, size=size, display=str(size), targetable=True, threshold=threshold)


def _released(session: Session, merchant_id: int, data: AudienceIn, threshold: int) -> tuple[int, str | None]:
    """The audience's size, and why it may not be shown or targeted (audience_guard), if so."""
    everything = audience_guard.sizes(session, _members_query(merchant_id))
    wanted = audience_guard.key(data.segment, data.inactive_days)
    size = everything[wanted]
    if size < threshold:
        return size, "too_small"
    if wanted in audience_guard.withheld(everything, threshold):
        return size, "differencing"
    return size, None


def targetable_audience(session: Session, merchant_id: int, data: AudienceIn, threshold: int) -> list[int]:
    """The consumers of a segment that may be targeted, or the privacy refusal (coupons and posts alike)."""
    _, withheld = _released(session, merchant_id, data, threshold)
    if withheld == "too_small":
        raise AudienceTooSmall(details={"threshold": threshold})
    if withheld == "differencing":  # its size would come back in the campaign's audience count
        raise AudienceWithheld(details={"threshold": threshold})
    return list(session.scalars(_audience_query(merchant_id, data).order_by(MemberSegment.consumer_id)))


def send(session: Session, principal: Principal, merchant_id: int, data: CampaignIn, threshold: int) -> Campaign:
    """Issue one coupon of the merchant's template to every consumer of the segment, while stock lasts.

    Consumers already holding their per-user limit of the template are skipped. Each coupon is taken
    by the same conditional UPDATE as a claim, so a campaign never oversells a template either.
    A campaign with `post_id` sends a post instead (campaigns.posts).
    """
    authorize(principal, Action.CATALOG_MANAGE, merchant_id)
    template = coupons.get_template(session, data.template_id)
    if template.merchant_id != merchant_id:
        raise TemplateNotFound()
    consumer_ids = targetable_audience(session, merchant_id, data, threshold)
    campaign = Campaign(merchant_id=merchant_id, template_id=template.id, segment=data.segment,
                        inactive_days=data.inactive_days, audience=len(consumer_ids), issued=0,
                        created_by=principal.user_id)
    session.add(campaign)
    session.flush()
    held = dict(session.execute(select(Coupon.consumer_id, func.count()).where(Coupon.template_id == template.id)
                                .group_by(Coupon.consumer_id)).all())
    for consumer_id in consumer_ids:
        if held.get(consumer_id, 0) >= template.per_user_limit:
            continue
        if template.remaining <= 0:  # refreshed below from the conditional UPDATE's effect
            break
        try:
            coupons.issue(session, template.id, consumer_id, claim_no=held.get(consumer_id, 0) + 1,
                          channel="campaign", campaign_id=campaign.id)
        except SoldOut:  # nothing was written for this consumer: stop here, keep those issued
            break
        campaign.issued += 1
        session.refresh(template, ["remaining"])
    session.flush()
    return campaign
