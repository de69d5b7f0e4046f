"""Closing a pre-sale: count the paid deposits per candidate, then balance orders or full refunds.

Once per pre-sale: a conditional UPDATE open -> closing claims it, so a second run (or a racing one)
does nothing. The whole decision is one transaction: outcomes, balance orders, cancelled unpaid
deposits and pending refunds (reserved on order and payment) commit together or not at all. The
provider is asked after the commit (payments.refunds.send); a crash in between leaves the refunds
pending for `daodian jobs retry-refunds`, and a vote row keeps its refund_id / balance_order_id, so
nothing is opened twice.

A balance order holds one unit of the candidate's SKU, reserved as for any product order; winners are served
in the order they voted. A winner the SKU has no unit left for (`out_of_stock`, the 409 of ordinary orders)
gets no balance order but the whole deposit back (reason `presale_sold_out`); the close itself goes through,
and the `presale.closed` fact counts those voters per candidate (`sold_out`).
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Action, Principal
from daodian.c2b.presale import service as presales
from daodian.c2b.presale.errors import PresaleNotDue
from daodian.c2b.presale.models import CandidateOutcome, Presale, PresaleStatus, PresaleVote
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import append_fact
from daodian.kit.settings import Settings
from daodian.merchants import service as merchants
from daodian.orders import service as orders
from daodian.orders.errors import OutOfStock
from daodian.orders.models import Order, OrderStatus
from daodian.payments import refunds
from daodian.payments.models import Refund

BALANCE_DAYS = 7  # how long a winner has to pay the balance


def close_due(factory: sessionmaker[Session], settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """The `daodian presales close` job: every open pre-sale past its closing time."""
    now = now or utcnow()
    with unit_of_work(factory, read_only=True) as session:
        ids = list(session.scalars(select(Presale.id).where(Presale.status == PresaleStatus.OPEN,
                                                            Presale.closes_at <= now).order_by(Presale.id)))
    counts = {"closed": 0, "skipped": 0}
    for presale_id in ids:
        counts["closed" if close(factory, settings, presale_id, now=now) else "skipped"] += 1
    return counts


def close_by_merchant(factory: sessionmaker[Session], settings: Settings, principal: Principal, merchant_id: int,
                      presale_id: int) -> Presale:
    with unit_of_work(factory, read_only=True) as session:
        merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
        presale = presales.get_presale(session, presale_id)
        if presale.merchant_id != merchant_id:
            raise presales.PresaleNotFound()
        if presale.status == PresaleStatus.OPEN and presale.closes_at > utcnow():
            raise PresaleNotDue(details={"closes_at": presale.closes_at.isoformat()})
    close(factory, settings, presale_id)  # a racing or repeated close finds nothing to claim: harmless
    with unit_of_work(factory, read_only=True) as session:
        return presales.get_presale(session, presale_id)


def close(factory: sessionmaker[Session], settings: Settings, presale_id: int, *,
          now: datetime | None = None) -> bool:
    """Close one pre-sale; False if another run already claimed it. Refunds go out after the commit."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        claimed = session.execute(
            update(Presale).where(Presale.id == presale_id, Presale.status == PresaleStatus.OPEN,
                                  Presale.closes_at <= now)
            .values(status=PresaleStatus.CLOSING).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            return False
        refund_ids = _decide(session, presales.get_presale(session, presale_id), now)
    for refund_id in refund_ids:
        refunds.send(factory, settings, refund_id)
    return True


def _decide(session: Session, presale: Presale, now: datetime) -> list[int]:
    session.refresh(presale)
    refund_ids: list[int] = []
    summary = []
    for candidate in presales.candidates_of(session, presale.id):
        ballots = list(session.scalars(select(PresaleVote).where(PresaleVote.candidate_id == candidate.id)
                                       .order_by(PresaleVote.id)))
        paid, unpaid = [], []
        for ballot in ballots:
            deposit = orders.locked_order(session, ballot.deposit_order_id)  # order first: the lock order
            (paid if deposit.paid_fen > 0 else unpaid).append((ballot, deposit))
        for _, deposit in unpaid:
            if deposit.status == OrderStatus.CREATED:
                orders.close_unpaid(session, deposit, by_user_id=None)
        won = len(paid) >= candidate.threshold
        candidate.votes, candidate.outcome = len(paid), CandidateOutcome.WON if won else CandidateOutcome.LOST
        sold_out = 0
        for ballot, deposit in paid:
            reason = "presale_lost"
            if won:
                if _balance(session, candidate, ballot, deposit, now):
                    continue
                sold_out, reason = sold_out + 1, "presale_sold_out"
            refund = _refund(session, ballot, deposit, now, reason=reason)
            if refund is not None:
                refund_ids.append(refund.id)
        summary.append({"candidate_id": candidate.id, "votes": len(paid), "threshold": candidate.threshold,
                        "outcome": candidate.outcome, "sold_out": sold_out})
    presale.status, presale.closed_at = PresaleStatus.CLOSED, now
    session.flush()
    append_fact(session, "presale.closed", {"presale_id": presale.id, "candidates": summary}, occurred_at=now,
                merchant_id=presale.merchant_id)
    return refund_ids


def _balance(session: Session, candidate, ballot: PresaleVote, deposit: Order, now: datetime) -> bool:
    """The winner's balance order holding one unit of the SKU; False if the SKU is sold out."""
    if ballot.balance_order_id is not None:
        return True
    try:
        orders.reserve_stock(session, {candidate.sku_id: 1}, now)
    except OutOfStock:
        return False  # the one conditional UPDATE took nothing: there is nothing to undo
    order = presales.new_order(session, ballot.consumer_id, deposit.merchant_id, deposit.fulfilment, deposit.store_id,
                               deposit.delivery_address, name=f"尾款 {candidate.name}"[:255],
                               amount_fen=candidate.price_fen - candidate.deposit_fen,
                               expires_at=now + timedelta(days=BALANCE_DAYS), sku_id=candidate.sku_id,
                               holds_stock=True)
    ballot.balance_order_id = order.id
    session.flush()
    return True


def _refund(session: Session, ballot: PresaleVote, deposit: Order, now: datetime, *, reason: str) -> Refund | None:
    """The whole deposit back, reserved on the order and the payment like any refund (payments.refunds)."""
    if ballot.refund_id is not None:
        return None
    refund = refunds.open_refund(session, deposit, deposit.paid_fen - deposit.refunded_fen, reason=reason, now=now)
    if refund is None:
        return None  # already refunded by hand: nothing left to give back
    ballot.refund_id = refund.id
    session.flush()
    return refund
