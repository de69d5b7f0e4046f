"""Segment-targeted posts: a merchant sends one of its posts to a segment of its own members.

The same privacy rules as coupon campaigns (campaigns.service): the merchant sees the audience size,
never who; segments below the privacy threshold, or withheld by the differencing guard, are refused;
consumers who switched personalisation off are not in the audience. Sending marks the post `targeted`
and records one `post_recipients` row per consumer (a second campaign of the same post adds the new
ones): from then on only its recipients see it in their feeds (follows.feed), and only while their
personalisation is on. Create the post with `targeted: true` to keep it from everyone until it is sent.

The campaign's `issued` is the whole audience, not the consumers newly added by this campaign: that
difference between two segments could be a group below the threshold. Sending appends one `campaign.sent`
fact (analytics.contract) with the same counts, for the merchant only (no consumer on it).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize
from daodian.campaigns.models import Campaign
from daodian.campaigns.schemas import CampaignIn
from daodian.campaigns.service import targetable_audience
from daodian.follows import posts
from daodian.follows.models import MerchantPost, PostRecipient
from daodian.kit.facts import append_fact


def send_post(session: Session, principal: Principal, merchant_id: int, data: CampaignIn, threshold: int
              ) -> Campaign:
    authorize(principal, Action.CATALOG_MANAGE, merchant_id)
    post = posts.get_post(session, merchant_id, data.post_id)  # another merchant's post: post_not_found, 404
    # Two campaigns of one post add recipients one after the other (no duplicate key between them).
    session.execute(select(MerchantPost.id).where(MerchantPost.id == post.id).with_for_update())
    consumer_ids = targetable_audience(session, merchant_id, data, threshold)
    campaign = Campaign(merchant_id=merchant_id, post_id=post.id, segment=data.segment,
                        inactive_days=data.inactive_days, audience=len(consumer_ids), issued=len(consumer_ids),
                        created_by=principal.user_id)
    session.add(campaign)
    post.targeted = True
    session.flush()
    already = set(session.scalars(select(PostRecipient.consumer_id).where(PostRecipient.post_id == post.id)))
    session.add_all(PostRecipient(post_id=post.id, consumer_id=consumer_id, campaign_id=campaign.id)
                    for consumer_id in consumer_ids if consumer_id not in already)
    session.flush()
    append_fact(session, "campaign.sent", {"campaign_id": campaign.id, "post_id": post.id, "channel": "post",
                                           "segment": campaign.segment, "inactive_days": campaign.inactive_days,
                                           "audience": campaign.audience, "issued": campaign.issued},
                occurred_at=campaign.created_at, merchant_id=merchant_id)
    return campaign
