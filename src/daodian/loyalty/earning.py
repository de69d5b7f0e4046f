"""Earning points: on a paid order and on a recorded sale with an identified member, taken back on refunds.

points = floor(paid yuan * the merchant's rate * the consumer's tier multiplier at that merchant), computed in
integers: floor(fen * rate * multiplier_pct / 10000). Each event earns once (the ledger's (kind, reference):
"order:<id>", "record:<id>"); a partial refund takes back its share once per refund ("refund:<id>" tag), and a
full refund reverses what is left of the earn. Earned points do not lapse here (`points.take_back` needs that).
All of it runs inside the caller's transaction.
"""

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from daodian.loyalty import points
from daodian.loyalty.models import (
    AccountKind,
    Membership,
    MemberTier,
    PointsAccount,
    PointsRule,
    PointsTransaction,
    merchant_scope,
)

DEFAULT_POINTS_PER_YUAN = 1  # 100 fen = 1 point unless the merchant sets a rule


def rate_of(session: Session, merchant_id: int) -> int:
    found = session.scalar(select(PointsRule.points_per_yuan).where(PointsRule.merchant_id == merchant_id))
    return DEFAULT_POINTS_PER_YUAN if found is None else found


def points_for(amount_fen: int, rate: int, multiplier_pct: int) -> int:
    """floor(fen * rate * multiplier_pct / 10000): `rate` points per yuan, a tier's multiplier in percent."""
    return amount_fen * rate * multiplier_pct // 10000 if amount_fen > 0 else 0


def _earn(session: Session, consumer_id: int | None, merchant_id: int, amount_fen: int,
          reference: str) -> PointsTransaction | None:
    if consumer_id is None:
        return None
    known = _what_earning_reads(session, consumer_id, merchant_id, reference)
    if known.earned is not None:  # the rate or tier may have changed since: keep the first
        return session.get(PointsTransaction, known.earned)
    rate = DEFAULT_POINTS_PER_YUAN if known.rate is None else known.rate
    amount = points_for(amount_fen, rate, known.multiplier or 100)  # 100: no tier, 1x
    if amount <= 0:
        return None
    return points.earn_new(session, consumer_id, amount, reference, merchant_id=merchant_id, mine=known.mine,
                           issuer=known.issuer)


def _what_earning_reads(session: Session, consumer_id: int, merchant_id: int, reference: str) -> Row:
    """In one SELECT (an earn is on every paid order): the earn of `reference` if there is one, the merchant's
    rate (as `rate_of` reads it), the consumer's tier multiplier there and both accounts' ids (None: not
    opened yet)."""
    return session.execute(_EARNING_READS, {
        "reference": reference, "merchant_id": merchant_id, "consumer_id": consumer_id,
        "scope": merchant_scope(merchant_id), "consumer_owner": points.owner_key(consumer_id, None),
        "issuer_owner": points.owner_key(None, merchant_id)}).one()


_EARNING_READS = select(  # built once: building it cost more than running it
    select(PointsTransaction.id).where(PointsTransaction.kind == "earn",
                                       PointsTransaction.reference == bindparam("reference"))
    .scalar_subquery().label("earned"),
    select(PointsRule.points_per_yuan).where(PointsRule.merchant_id == bindparam("merchant_id"))
    .scalar_subquery().label("rate"),
    select(MemberTier.points_multiplier_pct).join(Membership, Membership.tier_id == MemberTier.id)
    .where(Membership.consumer_id == bindparam("consumer_id"), Membership.scope == bindparam("scope"))
    .scalar_subquery().label("multiplier"),
    select(PointsAccount.id).where(PointsAccount.kind == AccountKind.CONSUMER,
                                   PointsAccount.owner_key == bindparam("consumer_owner"))
    .scalar_subquery().label("mine"),
    select(PointsAccount.id).where(PointsAccount.kind == AccountKind.ISSUED,
                                   PointsAccount.owner_key == bindparam("issuer_owner"))
    .scalar_subquery().label("issuer"),
)


def _earned(session: Session, reference: str) -> PointsTransaction | None:
    return session.scalar(select(PointsTransaction).where(PointsTransaction.kind == "earn",
                                                          PointsTransaction.reference == reference))


def on_order_paid(session: Session, order) -> PointsTransaction | None:
    return _earn(session, order.consumer_id, order.merchant_id, order.paid_fen, f"order:{order.id}")


def on_consumption_recorded(session: Session, record) -> PointsTransaction | None:
    return _earn(session, record.consumer_id, record.merchant_id, record.total_fen, f"record:{record.id}")


def on_refund_succeeded(session: Session, order, refund, *, fully_refunded: bool) -> PointsTransaction | None:
    """Take back the refund's share of the order's earn (floor); the whole rest once the order is refunded."""
    earned = _earned(session, f"order:{order.id}")
    if earned is None:
        return None
    if fully_refunded:
        return points.reverse(session, earned.id)
    if order.paid_fen <= 0:
        return None
    share = earned.points * refund.amount_fen // order.paid_fen
    if share <= 0:
        return None
    return points.take_back(session, earned.id, share, f"refund:{refund.id}")
