"""Member tiers: definitions per merchant and for the platform, the scheduled evaluation, benefits.

Evaluation (`daodian tiers evaluate`) looks back over a window (365 days by default) and, for every member,
adds up the rolling spend (orders paid in the window, net of their refunds, plus recorded offline sales) and
the points earned there (net of take-backs and reversals), then assigns the highest-ranked tier it
qualifies for (spend >= min_spend_fen, or points >= min_points when set). A change of tier, up or down,
moves `tier_since`; a rerun with the same `now` changes nothing. Anyone who spent becomes a member of the
platform and of the merchant they spent at (following makes a member too, see loyalty.follows).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from daodian.kit.clock import utcnow
from daodian.kit.errors import Conflict, NotFound
from daodian.loyalty.models import PLATFORM_SCOPE, Membership, MemberTier, PointsTransaction, merchant_scope
from daodian.orders.models import Order
from daodian.records.models import ConsumptionRecord

DEFAULT_WINDOW_DAYS = 365


class TierNotFound(NotFound):
    code, message = "tier_not_found", "No such member tier."


class TierConflict(Conflict):
    code, message = "tier_conflict", "Another tier of this merchant already has this name or rank."


# --- definitions ---------------------------------------------------------------------------------


def list_tiers(session: Session, scope: str) -> list[MemberTier]:
    return list(session.scalars(select(MemberTier).where(MemberTier.scope == scope).order_by(MemberTier.rank)))


def get_tier(session: Session, scope: str, tier_id: int) -> MemberTier:
    tier = session.get(MemberTier, tier_id)
    if tier is None or tier.scope != scope:  # another merchant's tier is not found here
        raise TierNotFound()
    return tier


def save_tier(session: Session, tier: MemberTier, values: dict) -> MemberTier:
    """Create (a new, unsaved `tier`) or update; a name or rank taken in the scope is a 409."""
    try:
        with session.begin_nested():
            for field, value in values.items():
                setattr(tier, field, value)
            session.add(tier)
            session.flush()
    except IntegrityError as exc:
        raise TierConflict() from exc
    return tier


def delete_tier(session: Session, tier: MemberTier) -> None:
    """Members of the tier keep their membership without a tier until the next evaluation."""
    for member in session.scalars(select(Membership).where(Membership.tier_id == tier.id)):
        member.tier_id, member.tier_since = None, None
    session.flush()
    session.delete(tier)
    session.flush()


def scope_of(merchant_id: int | None) -> str:
    return merchant_scope(merchant_id) if merchant_id else PLATFORM_SCOPE


# --- benefits ------------------------------------------------------------------------------------


def discount_percent(session: Session, consumer_id: int, merchant_id: int) -> int:
    """The checkout discount of the consumer's tier at this merchant (0 without one)."""
    found = session.scalar(select(MemberTier.discount_percent).join(Membership, Membership.tier_id == MemberTier.id)
                           .where(Membership.consumer_id == consumer_id,
                                  Membership.scope == merchant_scope(merchant_id)))
    return found or 0


def memberships_of(session: Session, consumer_id: int) -> list[tuple[Membership, MemberTier | None]]:
    rows = session.execute(select(Membership, MemberTier).outerjoin(MemberTier, MemberTier.id == Membership.tier_id)
                           .where(Membership.consumer_id == consumer_id).order_by(Membership.id)).all()
    return [(m, t) for m, t in rows]


# --- evaluation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    memberships: int
    created: int
    upgraded: int
    downgraded: int


def evaluate(session: Session, *, now: datetime | None = None, window_days: int = DEFAULT_WINDOW_DAYS) -> Evaluation:
    now = now or utcnow()
    since = now - timedelta(days=window_days)
    spend, earned = _spend(session, since, now), _points(session, since, now)
    for (consumer, _), fen in list(spend.items()):  # the platform: everything, everywhere
        spend[(consumer, None)] += fen
    for (consumer, _), pts in list(earned.items()):
        earned[(consumer, None)] += pts
    tiers: dict[str, list[MemberTier]] = defaultdict(list)
    for tier in session.scalars(select(MemberTier).order_by(MemberTier.rank.desc())):
        tiers[tier.scope].append(tier)
    members = {(m.consumer_id, m.scope): m for m in session.scalars(select(Membership))}
    created = upgraded = downgraded = 0
    for (consumer, merchant), fen in spend.items():
        if fen > 0 and (consumer, scope_of(merchant)) not in members:
            member = Membership(consumer_id=consumer, scope=scope_of(merchant), merchant_id=merchant, since=now)
            session.add(member)
            members[(consumer, member.scope)] = member
            created += 1
    ranks = {t.id: t.rank for scoped in tiers.values() for t in scoped}
    for (consumer, scope), member in members.items():
        key = (consumer, member.merchant_id if scope != PLATFORM_SCOPE else None)
        fen, pts = spend.get(key, 0), earned.get(key, 0)
        best = next((t for t in tiers.get(scope, []) if fen >= t.min_spend_fen
                     or (t.min_points is not None and pts >= t.min_points)), None)
        member.rolling_spend_fen, member.last_evaluated_at = max(fen, 0), now
        best_id = best.id if best else None
        if best_id != member.tier_id:
            before = ranks.get(member.tier_id, -1) if member.tier_id else -1
            after = best.rank if best else -1
            upgraded, downgraded = upgraded + (after > before), downgraded + (after < before)
            member.tier_id, member.tier_since = best_id, now
    session.flush()
    return Evaluation(memberships=len(members), created=created, upgraded=upgraded, downgraded=downgraded)


def _spend(session: Session, since: datetime, now: datetime) -> defaultdict:
    totals: defaultdict = defaultdict(int)
    orders = session.execute(select(Order.consumer_id, Order.merchant_id, func.sum(Order.paid_fen - Order.refunded_fen))
                             .where(Order.paid_at >= since, Order.paid_at <= now)
                             .group_by(Order.consumer_id, Order.merchant_id))
    records = session.execute(select(ConsumptionRecord.consumer_id, ConsumptionRecord.merchant_id,
                                     func.sum(ConsumptionRecord.total_fen))
                              .where(ConsumptionRecord.consumer_id.is_not(None), ConsumptionRecord.occurred_at >= since,
                                     ConsumptionRecord.occurred_at <= now)
                              .group_by(ConsumptionRecord.consumer_id, ConsumptionRecord.merchant_id))
    for consumer, merchant, fen in [*orders, *records]:
        totals[(consumer, merchant)] += int(fen or 0)  # PostgreSQL sums bigints as numeric
    return totals


def _points(session: Session, since: datetime, now: datetime) -> defaultdict:
    """Points earned at each merchant in the window, net of what refunds took back."""
    t, original = PointsTransaction, aliased(PointsTransaction)
    totals: defaultdict = defaultdict(int)
    window = (t.created_at >= since, t.created_at <= now, t.merchant_id.is_not(None))
    signed = case((t.kind == "earn", t.points), else_=-t.points)
    direct = session.execute(select(t.consumer_id, t.merchant_id, func.sum(signed))
                             .where(t.kind.in_(("earn", "takeback")), *window).group_by(t.consumer_id, t.merchant_id))
    reversed_earns = session.execute(select(t.consumer_id, t.merchant_id, -func.sum(t.points))
                                     .join(original, original.id == t.reverses_id)
                                     .where(t.kind == "reverse", original.kind == "earn", *window)
                                     .group_by(t.consumer_id, t.merchant_id))
    for consumer, merchant, pts in [*direct, *reversed_earns]:
        totals[(consumer, merchant)] += int(pts or 0)
    return totals


# --- members by tier -----------------------------------------------------------------------------


def summary(session: Session, scope: str, min_group: int) -> list[dict]:
    """Members per tier (and without one): counts only, a count below the privacy threshold withheld."""
    counts = dict(session.execute(select(Membership.tier_id, func.count()).where(Membership.scope == scope)
                                  .group_by(Membership.tier_id)).all())
    rows = [(t.id, t.name, t.rank) for t in list_tiers(session, scope)] + [(None, None, None)]
    return [{"tier_id": tier_id, "name": name, "rank": rank,
             "members": n if (n := int(counts.get(tier_id, 0))) >= min_group else None,
             "fewer_than": min_group if n < min_group else None}
            for tier_id, name, rank in rows]
