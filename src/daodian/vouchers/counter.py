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
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from daodian.accounts.authz import Action, Principal, authorize
from daodian.kit.clock import utcnow
from daodian.kit.db import Inserted, UTCDateTime, after_writes, insert_later, unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.events import publish
from daodian.kit.facts import INSERT_FACT, append_fact, fact_values
from daodian.kit.settings import Settings
from daodian.orders import repository
from daodian.orders.models import Order
from daodian.vouchers import counter_lookups as lookups
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

# Built once: building a statement per verification cost about as much as running it.
_VOUCHERS = Voucher.__table__.c
_CONSUME = (update(Voucher.__table__)
            .where(_VOUCHERS.id == bindparam("voucher_id"), _VOUCHERS.uses_left > 0,
                   _VOUCHERS.expires_at > bindparam("now", type_=UTCDateTime()))
            .values(uses_left=_VOUCHERS.uses_left - 1, updated_at=bindparam("now", type_=UTCDateTime()))
            .returning(_VOUCHERS.uses_left))
# In a batch, written with the batch's others at its end (kit.db.insert_later): ids in the rows' order.
_INSERT_VERIFICATION = insert(Verification.__table__).returning(Verification.__table__.c.id,
                                                                sort_by_parameter_order=True)
_INSERT_FAILURES = insert(VerificationFailure.__table__)


def terminals(principal: Principal, store_id: int, terminal_id: str | None) -> list[str]:
    return terminal_keys(principal.user_id, store_id, terminal_id)


def terminal_keys(user_id: int | None, store_id: int, terminal_id: str | None) -> list[str]:
    keys = [f"user:{user_id}:store:{store_id}"]
    if terminal_id:
        keys.append(f"store:{store_id}:terminal:{terminal_id}"[:96])
    return keys


def check_throttle(session: Session, keys: list[str], settings: Settings, now: datetime) -> None:
    for key in keys:  # each terminal on its own: a rotating device id does not reset the account's count
        if lookups.failures(session, key, settings, now) >= settings.verification_max_failures:
            raise VerificationThrottled(details={"retry_after_minutes": settings.verification_throttle_minutes})


def record_failure(factory: sessionmaker[Session], keys: list[str]) -> None:
    """In its own transaction: the request that failed rolls its own back."""
    with unit_of_work(factory) as session:
        record_failure_in(session, keys)


def record_failure_in(session: Session, keys: list[str]) -> None:
    """A wrong code from these terminals, in the caller's transaction (a batch's, after the unit's rollback)."""
    now = utcnow()
    session.connection().execute(_INSERT_FAILURES, [{"terminal": key, "attempted_at": now} for key in keys])
    for key in keys:
        lookups.count_failure(session, key)


def counter_store(session: Session, principal: Principal, store_id: int) -> lookups.CounterStore:
    store = lookups.store(session, store_id)
    authorize(principal, Action.COUNTER, store.merchant_id)
    return store


# --- the verification route's unit of work (kit.api.group_commit) ------------------------------


def wants(user_id: int, raw_code: str, store_id: int, terminal_id: str | None) -> dict[str, list]:
    return lookups.wants(user_id, raw_code, store_id, terminal_keys(user_id, store_id, terminal_id))


def verify_as(session: Session, *, user_id: int, raw_code: str, store_id: int, terminal_id: str | None,
              settings: Settings) -> VerificationRead:
    """Verify as the clerk `user_id` (read in this transaction), and the answer."""
    principal = lookups.staff_principal(session, user_id)
    inserted, row, voucher, name = _verify(session, principal, raw_code=raw_code, store_id=store_id,
                                           terminal_id=terminal_id, settings=settings)
    read = _read(SimpleNamespace(id=0, **row), voucher, name, settings)  # the voucher as now, not at the batch's end
    return after_writes(session, lambda: read.model_copy(update={"id": inserted.id}))


def after_refusal(user_id: int, store_id: int, terminal_id: str | None, session: Session, error: DomainError) -> None:
    """What a refused verification leaves behind: a wrong code counts against its terminals."""
    if isinstance(error, VoucherNotFound):
        record_failure_in(session, terminal_keys(user_id, store_id, terminal_id))


# --- verifying ----------------------------------------------------------------------------------


def verify(session: Session, principal: Principal, *, raw_code: str, store_id: int, terminal_id: str | None,
           settings: Settings) -> Verification:
    inserted, row = _verify(session, principal, raw_code=raw_code, store_id=store_id, terminal_id=terminal_id,
                            settings=settings)[:2]
    verification = Verification(id=inserted.id, **row)
    make_transient_to_detached(verification)  # the row is written: the session holds it as loaded, no flush
    session.add(verification)
    return verification


def _verify(session: Session, principal: Principal, *, raw_code: str, store_id: int, terminal_id: str | None,
            settings: Settings) -> tuple[Inserted, dict, Voucher, str]:
    """The verification (its row, and its id once written: in a batch, at the batch's end), its voucher as the
    UPDATE left it, and the voucher's line's name."""
    store = counter_store(session, principal, store_id)
    now = utcnow()
    check_throttle(session, terminals(principal, store.id, terminal_id), settings, now)
    found = lookups.voucher(session, raw_code, store.id)  # its order locked: order before voucher, as refunds lock
    voucher, name, order = found.voucher, found.name, found.held.order
    if voucher.merchant_id != store.merchant_id or not found.offered:
        raise VoucherForeignStore()
    _raise_if_unusable(voucher, now)
    publish(session, VoucherVerifying(voucher=voucher, zone=store.timezone, at=now))  # e.g. a group buy undecided
    connection = session.connection()
    consumed = connection.execute(_CONSUME, {"voucher_id": voucher.id, "now": now}).first()
    if consumed is None:  # another terminal took the last use between our read and our write
        session.refresh(voucher)
        _raise_if_unusable(voucher, now)
        raise VoucherUsedUp()
    set_committed_value(voucher, "uses_left", consumed.uses_left)  # the row as the UPDATE left it
    set_committed_value(voucher, "updated_at", now)
    row = {"voucher_id": voucher.id, "merchant_id": store.merchant_id, "store_id": store.id,
           "staff_user_id": principal.user_id, "terminal_id": terminal_id, "verified_at": now, "reversed_at": None,
           "reversed_by": None}
    inserted = insert_later(session, _INSERT_VERIFICATION, row)
    fact = fact_values("voucher.verified", {
        "verification_id": None, "voucher_id": voucher.id, "order_id": voucher.order_id,
        "service_item_id": voucher.service_item_id, "uses_left": voucher.uses_left,
        "value_fen": voucher.unit_price_fen // voucher.uses_total}, occurred_at=now, merchant_id=store.merchant_id,
        store_id=store.id, consumer_id=voucher.consumer_id)
    insert_later(session, INSERT_FACT, lambda: fact | {"payload": fact["payload"] | {"verification_id": inserted.id}})
    order_completion.after_uses_changed(session, order, uses_left=found.consumed())
    publish(session, VoucherVerified(voucher=voucher, by_user_id=principal.user_id))  # e.g. a booking attended
    return inserted, row, voucher, name


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
    return [_read(v, by_id[v.voucher_id], names.get(by_id[v.voucher_id].order_line_id, ""), settings)
            for v in verifications]


def verification_read(session: Session, verification: Verification, settings: Settings) -> VerificationRead:
    return verification_reads(session, [verification], settings)[0]


def _read(verification: Verification, voucher: Voucher, name: str, settings: Settings) -> VerificationRead:
    return VerificationRead(
        id=verification.id, voucher_id=voucher.id, order_id=voucher.order_id, service_item_id=voucher.service_item_id,
        name=name, store_id=verification.store_id, staff_user_id=verification.staff_user_id,
        verified_at=verification.verified_at, reversed_at=verification.reversed_at,
        reversible_until=reversible_until(verification, settings), uses_left=voucher.uses_left,
        uses_total=voucher.uses_total)
