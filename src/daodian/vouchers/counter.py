"""Verification at the counter (核销): consume one use of a voucher, exactly once, at the right store.

A use is consumed by one conditional UPDATE (`uses_left = uses_left - 1 WHERE uses_left > 0 AND
expires_at > now`), so however many terminals scan the same code at once, each use goes to exactly
one of them and the count never goes below zero. The checks before it only pick the error code:
`voucher_not_found` (wrong code or check symbol), `voucher_foreign_store` (another merchant's, or
this store does not offer the item), `voucher_expired`, `voucher_refunded`, `voucher_used_up`, and
`group_buy_pending` for a group-buy join whose deal has not succeeded yet (c2b.group_buy.vouchers, through a VoucherVerifying handler).

Wrong codes are recorded per terminal — the staff account at the store, and the `X-Terminal-Id`
device if sent — and a terminal with `verification_max_failures` of them within
`verification_throttle_minutes` gets `verification_throttled` (429) until the window passes. The
count is read before acting, so racing wrong guesses may overshoot the limit by a few: it slows
guessing of 80-bit codes down, it does not guard money.
"""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Action, Principal, authorize
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.events import publish
from daodian.kit.facts import append_fact
from daodian.kit.settings import Settings
from daodian.merchants import stores
from daodian.orders import repository
from daodian.orders.models import Order
from daodian.vouchers import order_completion
from daodian.vouchers import repository as voucher_repository
from daodian.vouchers import service as vouchers
from daodian.vouchers.errors import (
    AlreadyReversed,
    ReversalWindowPassed,
    VerificationNotFound,
    VerificationThrottled,
    VoucherExpired,
    VoucherForeignStore,
    VoucherNotFound,
    VoucherRefunded,
    VoucherUsedUp,
)
from daodian.vouchers.events import VoucherVerified, VoucherVerifying
from daodian.vouchers.models import Verification, VerificationFailure, Voucher
from daodian.vouchers.schemas import VerificationRead


def terminals(principal: Principal, store_id: int, terminal_id: str | None) -> list[str]:
    keys = [f"user:{principal.user_id}:store:{store_id}"]
    if terminal_id:
        keys.append(f"store:{store_id}:terminal:{terminal_id}"[:96])
    return keys


def check_throttle(session: Session, keys: list[str], settings: Settings, now: datetime) -> None:
    since = now - timedelta(minutes=settings.verification_throttle_minutes)
    for key in keys:  # each terminal on its own: a rotating device id does not reset the account's count
        if voucher_repository.failures_since(session, [key], since) >= settings.verification_max_failures:
            raise VerificationThrottled(details={"retry_after_minutes": settings.verification_throttle_minutes})


def record_failure(factory: sessionmaker[Session], keys: list[str]) -> None:
    """In its own transaction: the request that failed rolls its own back."""
    with unit_of_work(factory) as session:
        now = utcnow()
        session.add_all(VerificationFailure(terminal=key, attempted_at=now) for key in keys)


def counter_store(session: Session, principal: Principal, store_id: int):
    store = stores.get_store(session, store_id)
    authorize(principal, Action.COUNTER, store.merchant_id)
    return store


def verify(session: Session, principal: Principal, *, raw_code: str, store_id: int, terminal_id: str | None,
           settings: Settings) -> Verification:
    store = counter_store(session, principal, store_id)
    now = utcnow()
    check_throttle(session, terminals(principal, store.id, terminal_id), settings, now)
    voucher = vouchers.find(session, raw_code)
    if voucher.merchant_id != store.merchant_id or not repository.items_offered_at(
            session, store.id, {voucher.service_item_id}):
        raise VoucherForeignStore()
    _raise_if_unusable(voucher, now)
    publish(session, VoucherVerifying(voucher=voucher, zone=store.timezone, at=now))  # e.g. a group buy undecided
    order = _order(session, voucher)  # lock order before voucher, as refunds do: no deadlock between them
    consumed = session.execute(
        update(Voucher).where(Voucher.id == voucher.id, Voucher.uses_left > 0, Voucher.expires_at > now)
        .values(uses_left=Voucher.uses_left - 1, updated_at=now).execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(voucher)
    if consumed != 1:  # another terminal took the last use between our read and our write
        _raise_if_unusable(voucher, now)
        raise VoucherUsedUp()
    verification = Verification(voucher_id=voucher.id, merchant_id=store.merchant_id, store_id=store.id,
                                staff_user_id=principal.user_id, terminal_id=terminal_id, verified_at=now)
    session.add(verification)
    session.flush()
    append_fact(session, "voucher.verified", {
        "verification_id": verification.id, "voucher_id": voucher.id, "order_id": voucher.order_id,
        "service_item_id": voucher.service_item_id, "uses_left": voucher.uses_left,
        "value_fen": voucher.unit_price_fen // voucher.uses_total}, occurred_at=now, merchant_id=store.merchant_id,
        store_id=store.id, consumer_id=voucher.consumer_id)
    order_completion.after_uses_changed(session, order)
    publish(session, VoucherVerified(voucher=voucher, by_user_id=principal.user_id))  # e.g. a booking attended
    return verification


def _raise_if_unusable(voucher: Voucher, now: datetime) -> None:
    state = vouchers.status(voucher, now)
    if state == "used_up":
        raise VoucherUsedUp()
    if state == "refunded":
        raise VoucherRefunded()
    if state == "expired":
        raise VoucherExpired(details={"expired_at": voucher.expires_at.isoformat()})


def _order(session: Session, voucher: Voucher) -> Order:
    order = repository.order_for_update(session, voucher.order_id)
    assert order is not None
    return order


def lookup(session: Session, principal: Principal, *, raw_code: str, store_id: int, terminal_id: str | None,
           settings: Settings) -> Voucher:
    """Staff look a code up before verifying it: throttled like verification, other merchants' codes hidden."""
    store = counter_store(session, principal, store_id)
    check_throttle(session, terminals(principal, store.id, terminal_id), settings, utcnow())
    voucher = vouchers.find(session, raw_code)
    if voucher.merchant_id != store.merchant_id:
        raise VoucherNotFound()
    return voucher


def reverse(session: Session, principal: Principal, verification_id: int, settings: Settings) -> Verification:
    """A manager undoes a verification within the window: the use comes back to the voucher."""
    verification = session.get(Verification, verification_id)
    if verification is None:
        raise VerificationNotFound()
    authorize(principal, Action.STORE_MANAGE, verification.merchant_id)
    now = utcnow()
    if verification.reversed_at is not None:
        raise AlreadyReversed()
    if now > reversible_until(verification, settings):
        raise ReversalWindowPassed(details={"window_minutes": settings.verification_reversal_minutes})
    voucher = session.get(Voucher, verification.voucher_id)
    order = _order(session, voucher)
    reversed_ = session.execute(
        update(Verification).where(Verification.id == verification.id, Verification.reversed_at.is_(None))
        .values(reversed_at=now, reversed_by=principal.user_id).execution_options(synchronize_session=False)
    ).rowcount
    if reversed_ != 1:
        raise AlreadyReversed()
    session.execute(update(Voucher).where(Voucher.id == verification.voucher_id,
                                          Voucher.uses_left + Voucher.refunded_uses < Voucher.uses_total)
                    .values(uses_left=Voucher.uses_left + 1, updated_at=now)
                    .execution_options(synchronize_session=False))
    session.refresh(verification)
    session.refresh(voucher)
    append_fact(session, "voucher.verification_reversed", {
        "verification_id": verification.id, "voucher_id": voucher.id, "order_id": voucher.order_id,
        "service_item_id": voucher.service_item_id, "by": principal.user_id}, occurred_at=now,
        merchant_id=verification.merchant_id, store_id=verification.store_id, consumer_id=voucher.consumer_id)
    order_completion.after_uses_changed(session, order)
    return verification


def reversible_until(verification: Verification, settings: Settings) -> datetime:
    return verification.verified_at + timedelta(minutes=settings.verification_reversal_minutes)


def verification_reads(session: Session, verifications: list[Verification],
                       settings: Settings) -> list[VerificationRead]:
    """API views of many verifications in two extra queries."""
    by_id = voucher_repository.vouchers_by_ids(session, {v.voucher_id for v in verifications})
    names = repository.line_names(session, {v.order_line_id for v in by_id.values()})
    reads = []
    for verification in verifications:
        voucher = by_id[verification.voucher_id]
        reads.append(VerificationRead(
            id=verification.id, voucher_id=voucher.id, order_id=voucher.order_id,
            service_item_id=voucher.service_item_id, name=names.get(voucher.order_line_id, ""),
            store_id=verification.store_id, staff_user_id=verification.staff_user_id,
            verified_at=verification.verified_at, reversed_at=verification.reversed_at,
            reversible_until=reversible_until(verification, settings), uses_left=voucher.uses_left,
            uses_total=voucher.uses_total))
    return reads


def verification_read(session: Session, verification: Verification, settings: Settings) -> VerificationRead:
    return verification_reads(session, [verification], settings)[0]
