"""Following a merchant, which makes the consumer its member.

Following creates the follow and, if absent, the consumer's `Membership` of the merchant (scope
"merchant:<id>"). Unfollowing removes only the follow: the membership stays, so tier history and the
rolling spend survive a change of mind, but without a follow the merchant's posts no longer reach the
consumer's feed (the feed reads follows, never memberships alone). Following again reuses the same
membership. Each follow and unfollow appends a fact (`follow.created`, `follow.deleted`).
"""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from daodian.follows.models import Follow
from daodian.kit.errors import NotFound
from daodian.kit.facts import append_fact
from daodian.loyalty.models import Membership, merchant_scope
from daodian.merchants import service as merchants


def follow(session: Session, consumer_id: int, merchant_id: int) -> tuple[Follow, bool]:
    """(the follow, whether it is new). Only a public (active) merchant can be followed."""
    merchant = merchants.get_merchant(session, merchant_id)
    if not merchants.is_public(merchant):
        raise NotFound("No such merchant.", code="merchant_not_found")
    existing = session.get(Follow, (consumer_id, merchant_id))
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():  # a parallel first follow of the same pair: the other one wins
            row = Follow(consumer_id=consumer_id, merchant_id=merchant_id)
            session.add(row)
    except IntegrityError:
        return session.get(Follow, (consumer_id, merchant_id)), False
    _ensure_membership(session, consumer_id, merchant_id)
    append_fact(session, "follow.created", {"merchant_id": merchant_id}, merchant_id=merchant_id,
                consumer_id=consumer_id)
    return row, True


def _ensure_membership(session: Session, consumer_id: int, merchant_id: int) -> None:
    scope = merchant_scope(merchant_id)
    query = select(Membership.id).where(Membership.consumer_id == consumer_id, Membership.scope == scope)
    if session.scalar(query) is not None:
        return
    try:
        with session.begin_nested():
            session.add(Membership(consumer_id=consumer_id, scope=scope, merchant_id=merchant_id))
    except IntegrityError:  # earned by spending meanwhile (loyalty tiers): the same membership
        pass


def unfollow(session: Session, consumer_id: int, merchant_id: int) -> None:
    """Idempotent: unfollowing a merchant you do not follow changes nothing."""
    row = session.get(Follow, (consumer_id, merchant_id))
    if row is None:
        return
    session.delete(row)
    append_fact(session, "follow.deleted", {"merchant_id": merchant_id}, merchant_id=merchant_id,
                consumer_id=consumer_id)
    session.flush()


def followed_merchant_ids(session: Session, consumer_id: int) -> list[int]:
    return list(session.scalars(select(Follow.merchant_id).where(Follow.consumer_id == consumer_id)))


def follower_count(session: Session, merchant_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Follow).where(Follow.merchant_id == merchant_id))


def is_following(session: Session, consumer_id: int, merchant_id: int) -> bool:
    return session.get(Follow, (consumer_id, merchant_id)) is not None
