"""Member tiers: definitions per merchant and for the platform, the scheduled evaluation, benefits.

Evaluation (`daodian tiers evaluate`) looks back over a window (365 days by default) and, for every member,
adds up the rolling spend (orders paid in the window, net of their refunds, plus recorded offline sales) and
the points earned there (net of take-backs and reversals), then assigns the highest-ranked tier it
qualifies for (spend >= min_spend_fen, or points >= min_points when set). A change of tier, up or down,
moves `tier_since` and appends a `membership.tier_changed` fact; a rerun with the same `now` changes
nothing. Anyone who spent becomes a member of the platform and of the merchant they spent at (following makes
a member too, see follows.service). The job works in batches of BATCH_SIZE memberships, each committed on its
own by the CLI (`evaluate_in_batches`), so it never holds every member in memory or in one transaction.
"""

from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from daodian.kit.clock import utcnow
from daodian.kit.errors import Conflict, NotFound
from daodian.kit.facts import append_fact
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
    now = utcnow()
    for member in session.scalars(select(Membership).where(Membership.tier_id == tier.id)):
        _tier_changed(session, member, None, "tier_deleted", now, before=tier.rank, after=-1)
        member.tier_id, member.tier_since = None, None
    session.flush()
    session.delete(tier)
    session.flush()


def scope_of(merchant_id: int | None) -> str:
    return merchant_scope(merchant_id) if merchant_id else PLATFORM_SCOPE


# --- benefits ------------------------------------------------------------------------------------


def discount_percent(session: Session, consumer_id: int, merchant_id: int) -> int:
    """The checkout discount of the consumer's tier at this merchant (0 without one)."""
    found = session.scalar(_DISCOUNT, {"consumer_id": consumer_id, "scope": merchant_scope(merchant_id)})
    return found or 0


# Built once (asked on every order placed): building it cost more than running it.
_DISCOUNT = (select(MemberTier.discount_percent).join(Membership, Membership.tier_id == MemberTier.id)
             .where(Membership.consumer_id == bindparam("consumer_id"), Membership.scope == bindparam("scope")))


def after_discount(amounts_fen: list[int], percent: int) -> list[int]:
    """Each line total after a tier discount of `percent`, floored to the fen (tiers give at most 50% off, so
    every line keeps at least half). Coupons are judged on these amounts: checkout and the quote alike."""
    return [amount - amount * percent // 100 for amount in amounts_fen]


def memberships_of(session: Session, consumer_id: int) -> list[tuple[Membership, MemberTier | None]]:
    rows = session.execute(select(Membership, MemberTier).outerjoin(MemberTier, MemberTier.id == Membership.tier_id)
                           .where(Membership.consumer_id == consumer_id).order_by(Membership.id)).all()
    return [(m, t) for m, t in rows]


# --- evaluation ----------------------------------------------------------------------------------

BATCH_SIZE = 1000  # memberships (or spending consumers) per transaction


@dataclass(frozen=True)
class Evaluation:
    memberships: int
    created: int
    upgraded: int
    downgraded: int


@dataclass(frozen=True)
class _Tier:
    """What the evaluation needs of a tier: plain values, so they outlive each batch's commit."""

    id: int
    rank: int
    min_spend_fen: int
    min_points: int | None


def evaluate(session: Session, *, now: datetime | None = None, window_days: int = DEFAULT_WINDOW_DAYS,
             batch_size: int = BATCH_SIZE) -> Evaluation:
    """The whole evaluation in the caller's transaction (flushed, not committed)."""
    return evaluate_in_batches(lambda: nullcontext(session), now=now, window_days=window_days,
                               batch_size=batch_size)


def evaluate_in_batches(transaction: Callable[[], AbstractContextManager[Session]], *, now: datetime | None = None,
                        window_days: int = DEFAULT_WINDOW_DAYS, batch_size: int = BATCH_SIZE) -> Evaluation:
    """The evaluation in batches of `batch_size`, each in its own `transaction()` (the CLI: one unit of work per
    batch), keyset by id so that memory stays flat however many members there are.

    First the consumers who spent in the window and lack a membership become members (keyset by consumer id),
    then every membership is evaluated (keyset by membership id). Each batch is complete in itself: stopped
    half-way, a rerun with the same `now` finishes the job and changes nothing that was already done.
    """
    now = now or utcnow()
    since = now - timedelta(days=window_days)
    with transaction() as session:
        scoped: dict[str, list[_Tier]] = defaultdict(list)
        for t in session.scalars(select(MemberTier).order_by(MemberTier.rank.desc())):
            scoped[t.scope].append(_Tier(t.id, t.rank, t.min_spend_fen, t.min_points))
    ranks = {t.id: t.rank for tiers_ in scoped.values() for t in tiers_}
    created = evaluated = upgraded = downgraded = 0
    cursor = 0
    while True:
        with transaction() as session:
            consumers = _spenders_after(session, cursor, since, now, batch_size)
            if consumers:
                created += _enrol(session, consumers, since, now)
        if len(consumers) < batch_size:
            break
        cursor = consumers[-1]
    cursor = 0
    while True:
        with transaction() as session:
            batch = list(session.scalars(select(Membership).where(Membership.id > cursor).order_by(Membership.id)
                                         .limit(batch_size)))
            if batch:
                up, down = _evaluate_batch(session, batch, scoped, ranks, since, now)
                evaluated, upgraded, downgraded = evaluated + len(batch), upgraded + up, downgraded + down
                cursor = batch[-1].id
        if len(batch) < batch_size:
            break
    return Evaluation(memberships=evaluated, created=created, upgraded=upgraded, downgraded=downgraded)


def _spenders_after(session: Session, cursor: int, since: datetime, now: datetime, limit: int) -> list[int]:
    """The next `limit` consumers (by id, after `cursor`) who paid an order or had a sale recorded in the window."""
    spenders = union(
        select(Order.consumer_id.label("consumer_id")).where(Order.paid_at >= since, Order.paid_at <= now),
        select(ConsumptionRecord.consumer_id.label("consumer_id"))
        .where(ConsumptionRecord.consumer_id.is_not(None), ConsumptionRecord.occurred_at >= since,
               ConsumptionRecord.occurred_at <= now)).subquery()
    return list(session.scalars(select(spenders.c.consumer_id).where(spenders.c.consumer_id > cursor)
                                .order_by(spenders.c.consumer_id).limit(limit)))


def _enrol(session: Session, consumers: list[int], since: datetime, now: datetime) -> int:
    """Anyone who spent becomes a member of the platform and of each merchant they spent at."""
    spend = _with_platform(_spend(session, since, now, consumers))
    have = {(consumer, scope) for consumer, scope in session.execute(
        select(Membership.consumer_id, Membership.scope).where(Membership.consumer_id.in_(consumers)))}
    fresh = [Membership(consumer_id=consumer, scope=scope_of(merchant), merchant_id=merchant, since=now)
             for (consumer, merchant), fen in spend.items() if fen > 0 and (consumer, scope_of(merchant)) not in have]
    session.add_all(fresh)
    session.flush()
    return len(fresh)


def _evaluate_batch(session: Session, batch: list[Membership], scoped: dict[str, list[_Tier]],
                    ranks: dict[int, int], since: datetime, now: datetime) -> tuple[int, int]:
    """Assign the best tier to each membership of the batch; (upgraded, downgraded). A change appends a fact."""
    consumers = sorted({m.consumer_id for m in batch})
    spend = _with_platform(_spend(session, since, now, consumers))
    earned = _with_platform(_points(session, since, now, consumers))
    upgraded = downgraded = 0
    for member in batch:
        key = (member.consumer_id, member.merchant_id if member.scope != PLATFORM_SCOPE else None)
        fen, pts = spend.get(key, 0), earned.get(key, 0)
        best = next((t for t in scoped.get(member.scope, []) if fen >= t.min_spend_fen
                     or (t.min_points is not None and pts >= t.min_points)), None)
        member.rolling_spend_fen, member.last_evaluated_at = max(fen, 0), now
        best_id = best.id if best else None
        if best_id != member.tier_id:
            before = ranks.get(member.tier_id, -1) if member.tier_id else -1
            after = best.rank if best else -1
            upgraded, downgraded = upgraded + (after > before), downgraded + (after < before)
            _tier_changed(session, member, best_id, "evaluation", now, before=before, after=after)
            member.tier_id, member.tier_since = best_id, now
    session.flush()
    return upgraded, downgraded


def _tier_changed(session: Session, member: Membership, to_tier_id: int | None, reason: str, now: datetime, *,
                  before: int, after: int) -> None:
    """The `membership.tier_changed` fact (analytics.contract), before the membership moves."""
    direction = "up" if after > before else "down" if after < before else "same"
    append_fact(session, "membership.tier_changed",
                {"membership_id": member.id, "scope": member.scope, "from_tier_id": member.tier_id,
                 "to_tier_id": to_tier_id, "reason": reason, "direction": direction},
                occurred_at=now, merchant_id=member.merchant_id, consumer_id=member.consumer_id)


def _with_platform(totals: defaultdict) -> defaultdict:
    """Add the platform's total per consumer (key (consumer, None)): everything, everywhere."""
    for (consumer, _), value in list(totals.items()):
        totals[(consumer, None)] += value
    return totals


def _spend(session: Session, since: datetime, now: datetime, consumers: list[int]) -> defaultdict:
    totals: defaultdict = defaultdict(int)
    orders = session.execute(select(Order.consumer_id, Order.merchant_id, func.sum(Order.paid_fen - Order.refunded_fen))
                             .where(Order.paid_at >= since, Order.paid_at <= now, Order.consumer_id.in_(consumers))
                             .group_by(Order.consumer_id, Order.merchant_id))
    records = session.execute(select(ConsumptionRecord.consumer_id, ConsumptionRecord.merchant_id,
                                     func.sum(ConsumptionRecord.total_fen))
                              .where(ConsumptionRecord.consumer_id.in_(consumers),
                                     ConsumptionRecord.occurred_at >= since, ConsumptionRecord.occurred_at <= now)
                              .group_by(ConsumptionRecord.consumer_id, ConsumptionRecord.merchant_id))
    for consumer, merchant, fen in [*orders, *records]:
        totals[(consumer, merchant)] += int(fen or 0)  # PostgreSQL sums bigints as numeric
    return totals


def _points(session: Session, since: datetime, now: datetime, consumers: list[int]) -> defaultdict:
    """Points earned at each merchant in the window, net of what refunds took back."""
    t, original = PointsTransaction, aliased(PointsTransaction)
    totals: defaultdict = defaultdict(int)
    window = (t.created_at >= since, t.created_at <= now, t.merchant_id.is_not(None), t.consumer_id.in_(consumers))
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
