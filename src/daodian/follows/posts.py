"""Merchant posts: what a merchant publishes to its followers' feeds.

The owner and managers publish and delete (the catalog.manage action; clerks cannot). A post may
attach one of the merchant's own coupon templates (another merchant's is `coupon_template_not_found`,
404, as if it did not exist). `members_only` and `min_tier_rank` make a post targeted content, and so
does `targeted` (seen only by the members a segment campaign sent it to, campaigns.posts):
see follows.feed for who sees what.
"""

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize
from daodian.coupons import service as coupons
from daodian.coupons.errors import TemplateNotFound
from daodian.follows.models import MerchantPost
from daodian.follows.schemas import PostIn
from daodian.kit.errors import NotFound


class PostNotFound(NotFound):
    code, message = "post_not_found", "No such post."


def create_post(session: Session, principal: Principal, merchant_id: int, data: PostIn) -> MerchantPost:
    authorize(principal, Action.CATALOG_MANAGE, merchant_id)
    if data.coupon_template_id is not None:
        template = coupons.get_template(session, data.coupon_template_id)
        if template.merchant_id != merchant_id:
            raise TemplateNotFound()
    post = MerchantPost(merchant_id=merchant_id, author_id=principal.user_id, title=data.title.strip(),
                        body=data.body, members_only=data.members_only or data.min_tier_rank is not None,
                        min_tier_rank=data.min_tier_rank, coupon_template_id=data.coupon_template_id,
                        targeted=data.targeted)
    session.add(post)
    session.flush()
    return post


def get_post(session: Session, merchant_id: int, post_id: int) -> MerchantPost:
    post = session.get(MerchantPost, post_id)
    if post is None or post.merchant_id != merchant_id:
        raise PostNotFound()
    return post


def delete_post(session: Session, principal: Principal, merchant_id: int, post_id: int) -> None:
    authorize(principal, Action.CATALOG_MANAGE, merchant_id)
    session.delete(get_post(session, merchant_id, post_id))
    session.flush()
