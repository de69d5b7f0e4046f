"""The consumer's feed: posts of the merchants they follow, newest first.

Who sees a post (only ever a post of a merchant the consumer follows now):
- a public post (not `members_only`, no `min_tier_rank`): every follower;
- a members-only post: followers who hold the merchant's membership (following creates it);
- a tier-targeted post (`min_tier_rank` n): members whose current tier at that merchant has rank >= n;
- a segment-targeted post (`targeted`, campaigns.posts): only the followers it was sent to
  (a `post_recipients` row), whatever its other flags; before it is sent, no one.

PIPL Art. 24: a consumer who switched personalised recommendations and marketing off
(`marketing_preferences.personalised = false`) gets only non-personalised content: the public posts of
the merchants they follow, in plain reverse-chronological order, and nothing chosen from their profile
(no membership, tier, segment or recipient row is read). The response says which rule applied (`personalised`).
Ordering is by post id descending (ids grow with time), keyset-paged: `cursor` is the last id seen.
"""

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from daodian.accounts import marketing_preferences as preferences
from daodian.follows.models import Follow, MerchantPost, PostRecipient
from daodian.kit.api.pagination import PageParams
from daodian.loyalty.models import Membership, MemberTier


def _public():
    return and_(MerchantPost.members_only.is_(False), MerchantPost.min_tier_rank.is_(None),
                MerchantPost.targeted.is_(False))


def _sent_to(consumer_id: int):
    recipient = select(PostRecipient.post_id).where(PostRecipient.post_id == MerchantPost.id,
                                                     PostRecipient.consumer_id == consumer_id)
    return and_(MerchantPost.targeted.is_(True), recipient.exists())


def _visible_to_member(consumer_id: int):
    membership = (select(Membership.merchant_id)
                  .where(Membership.consumer_id == consumer_id, Membership.merchant_id == MerchantPost.merchant_id))
    rank = (select(MemberTier.rank).join(Membership, Membership.tier_id == MemberTier.id)
            .where(Membership.consumer_id == consumer_id, Membership.merchant_id == MerchantPost.merchant_id)
            .scalar_subquery())
    members_only = and_(MerchantPost.min_tier_rank.is_(None), membership.exists())
    tiered = and_(MerchantPost.min_tier_rank.is_not(None), rank >= MerchantPost.min_tier_rank)
    return and_(MerchantPost.targeted.is_(False), or_(members_only, tiered))


def feed(session: Session, consumer_id: int, params: PageParams) -> tuple[bool, list[MerchantPost], str | None]:
    """(personalised, posts newest first, next cursor)."""
    is_personalised = preferences.personalised(session, consumer_id)
    followed = select(Follow.merchant_id).where(Follow.consumer_id == consumer_id)
    visible = (or_(_public(), _visible_to_member(consumer_id), _sent_to(consumer_id)) if is_personalised
               else _public())
    query = select(MerchantPost).where(MerchantPost.merchant_id.in_(followed), visible)
    if params.after_id is not None:
        query = query.where(MerchantPost.id < params.after_id)
    rows = list(session.scalars(query.order_by(MerchantPost.id.desc()).limit(params.limit + 1)))
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return is_personalised, rows, (str(rows[-1].id) if more and rows else None)

