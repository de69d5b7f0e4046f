"""Paying orders and taking providers' notifications.

An order has at most one payment under way: paying locks the order row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers), reuses a pending payment of the same
provider, and cancels a pending one of another provider. Online payments become `succeeded` only
from a verified notification; offline ones when staff record them. A success is applied with
conditional UPDATEs (payment -> succeeded once, order created -> paid once), so a notification
delivered twice, or racing another, pays the order once. Money that arrives for an order that is
no longer payable (cancelled, expired, or paid by another attempt) is a *late payment*, refunded
at once through the provider that took it.
"""

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from daodian.accounts.authz import Action, Principal, authorize, authorize_self
from daodian.kit.api import idempotency
from daodian.kit.clock import utcnow
from daodian.kit.db import insert_later, insert_loaded, unit_of_work
from daodian.kit.errors import Invalid
from daodian.kit.facts import INSERT_FACT, fact_values
from daodian.kit.settings import Settings
from daodian.merchants import stores
from daodian.orders import service as orders
from daodian.orders.errors import OrderNotFound
from daodian.orders.models import Order
from daodian.payments import refunds, repository
from daodian.payments.errors import AmountMismatch, PaymentNotFound
from daodian.payments.models import Payment, PaymentStatus
from daodian.payments.providers import registry
from daodian.payments.providers.base import Notification, PaymentInfo, PaymentProvider, ProviderError
from daodian.payments.references import new_reference
from daodian.payments.schemas import PayIn, PaymentRead

log = logging.getLogger("daodian.payments")


def base_url(settings: Settings, request_base: str) -> str:
    return (settings.public_base_url or request_base).rstrip("/")


def payment_read(payment: Payment) -> PaymentRead:
    return PaymentRead.model_validate(payment)


def _info(payment: Payment, order: Order, provider: PaymentProvider, base: str) -> PaymentInfo:
    return PaymentInfo(payment_id=payment.id, order_id=order.id, out_trade_no=payment.out_trade_no,
                       amount_fen=payment.amount_fen, subject=f"到店订单 {order.id}",
                       notify_url=f"{base}/api/v1/payments/notify/{provider.name}", pay_page_base=base)


def _authorize_pay(session: Session, principal: Principal, order: Order, provider: PaymentProvider,
                   data: PayIn) -> dict:
    if provider.online:
        authorize_self(principal, order.consumer_id, hidden_as=OrderNotFound, merchant_id=order.merchant_id)
        return {}
    authorize(principal, Action.COUNTER, order.merchant_id)  # cash or card at the POS: staff record it
    if data.store_id is None or data.method is None:
        raise Invalid("Offline payments name the store and the method (cash or card).", code="offline_details_missing")
    store = stores.get_store(session, data.store_id)
    if store.merchant_id != order.merchant_id:
        raise Invalid("That store is not this merchant's.", code="invalid_store")
    return {"store_id": store.id, "method": data.method, "reference": data.reference, "recorded_by": principal.user_id}


def pay(factory: sessionmaker[Session], settings: Settings, principal: Principal, order_id: int, data: PayIn,
        request_base: str, claim: idempotency.Claim) -> tuple[int, PaymentRead]:
    base = base_url(settings, request_base)
    orders.expire_if_due(factory, order_id)
    with unit_of_work(factory) as session:
        started = pay_in(session, settings, principal, order_id, data, base, claim)
        if not isinstance(started, PaymentInfo):
            return started
        info, provider = started, registry.get(settings, data.provider)
    try:  # outside any transaction: no lock is held while the provider answers
        started = provider.start(info)
    except ProviderError:
        with unit_of_work(factory) as session:
            session.execute(update(Payment).where(Payment.id == info.payment_id,
                                                  Payment.status == PaymentStatus.PENDING)
                            .values(status=PaymentStatus.FAILED, updated_at=utcnow()))
        raise
    with unit_of_work(factory) as session:
        payment = session.get(Payment, info.payment_id, populate_existing=True)
        if payment.status == PaymentStatus.PENDING:
            payment.pay_url = started.pay_url
            session.flush()
        read = payment_read(payment)
        claim.complete(session, 201, idempotency.dump(read))
        return 201, read


def pay_in(session: Session, settings: Settings, principal: Principal, order_id: int, data: PayIn, base: str,
           claim: idempotency.Claim) -> tuple[int, PaymentRead] | PaymentInfo:
    """The payment's transaction: the answer (stored with the claim), or, for a provider that is started
    remotely, what to start it with once this transaction has committed (no lock held while it answers)."""
    order = orders.locked_order(session, order_id)
    provider = registry.get(settings, data.provider)
    details = _authorize_pay(session, principal, order, provider, data)
    orders.require_payable(order)
    for pending in (p for p in repository.payments_of_order(session, order.id) if p.status == PaymentStatus.PENDING):
        if pending.provider == provider.name and provider.online and pending.pay_url:
            read = payment_read(pending)  # a second tap on "pay": the same payment page
            claim.complete(session, 200, idempotency.dump(read))
            return 200, read
        _cancel(session, pending)
    now = utcnow()
    payment = Payment(order_id=order.id, provider=provider.name, status=PaymentStatus.PENDING,
                      amount_fen=order.total_fen, refunded_fen=0, out_trade_no=new_reference("P"), late=False,
                      details=details, created_by=principal.user_id, created_at=now, updated_at=now)
    insert_loaded(session, payment)  # one INSERT, not the ORM's flush (a new payment each time)
    info = _info(payment, order, provider, base)
    if provider.remote_start:
        return info
    if not provider.online:  # recording it is the payment
        apply_success(session, payment, amount_fen=payment.amount_fen, provider_reference=None, settings=settings)
    else:
        pay_url = provider.start(info).pay_url
        session.execute(_SET_PAY_URL, {"payment_id": payment.id, "new_pay_url": pay_url, "new_updated_at": now})
        set_committed_value(payment, "pay_url", pay_url)
        set_committed_value(payment, "updated_at", now)
    read = payment_read(payment)
    claim.complete(session, 201, idempotency.dump(read))
    return 201, read


def _cancel(session: Session, payment: Payment) -> None:
    session.execute(update(Payment).where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
                    .values(status=PaymentStatus.CANCELLED, updated_at=utcnow()))


def apply_success(session: Session, payment: Payment, *, amount_fen: int | None, provider_reference: str | None,
                  settings: Settings, now: datetime | None = None) -> str:
    """Money arrived for `payment`: 'paid', 'late_payment', or 'duplicate' if it was already counted."""
    if amount_fen != payment.amount_fen:
        raise AmountMismatch(details={"expected_fen": payment.amount_fen, "notified_fen": amount_fen})
    now = now or utcnow()
    order = orders.locked_order(session, payment.order_id)  # order first, then payment: one lock order
    succeeded = {"status": PaymentStatus.SUCCEEDED, "provider_trade_no": provider_reference, "succeeded_at": now,
                 "updated_at": now}
    changed = session.execute(_SUCCEED, {"payment_id": payment.id, **{f"new_{k}": v for k, v in succeeded.items()}}
                              ).rowcount
    if changed != 1:
        session.refresh(payment)
        return "duplicate"
    for name, value in succeeded.items():  # the row as the UPDATE left it, without reading it back
        set_committed_value(payment, name, value)
    insert_later(session, INSERT_FACT, fact_values("payment.succeeded", {
        "payment_id": payment.id, "order_id": order.id, "provider": payment.provider, "amount_fen": payment.amount_fen},
        occurred_at=now, merchant_id=order.merchant_id, store_id=order.store_id, consumer_id=order.consumer_id))
    if orders.mark_paid(session, order, amount_fen=payment.amount_fen, payment_id=payment.id,
                        provider=payment.provider, settings=settings, now=now):
        return "paid"
    payment.late = True
    session.flush()
    refunds.open_late_refund(session, payment)
    log.warning("late payment %s for order %s (%s); refunding it", payment.id, order.id, order.status)
    return "late_payment"


_PAYMENTS = Payment.__table__
_SET_PAY_URL = update(_PAYMENTS).where(_PAYMENTS.c.id == bindparam("payment_id")).values(
    pay_url=bindparam("new_pay_url"), updated_at=bindparam("new_updated_at"))
# Once: a Core statement on the table (the ORM's bulk UPDATE cost more than the statement), built once.
_SUCCEED = update(_PAYMENTS).where(_PAYMENTS.c.id == bindparam("payment_id"),
                                   _PAYMENTS.c.status != PaymentStatus.SUCCEEDED).values(
    {name: bindparam(f"new_{name}") for name in ("status", "provider_trade_no", "succeeded_at", "updated_at")})


def apply_failure(session: Session, payment: Payment) -> str:
    changed = session.execute(update(Payment).where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
                              .values(status=PaymentStatus.FAILED, updated_at=utcnow())).rowcount
    return "failed" if changed else "duplicate"


def handle_notification(factory: sessionmaker[Session], settings: Settings, provider_name: str,
                        headers: Mapping[str, str], body: bytes) -> tuple[PaymentProvider, str]:
    """Verify and apply one notification, once per notify id, in a transaction of its own; returns the
    provider and the outcome. (The notify routes apply theirs with others at once: kit.api.group_commit.)"""
    provider, note = verified_notification(settings, provider_name, headers, body)
    with unit_of_work(factory) as session:
        outcome = apply_notification(session, provider, note, settings)
    if outcome == "late_payment":
        refunds.send_pending_for_reference(factory, settings, note.reference)
    return provider, outcome


def verified_notification(settings: Settings, provider_name: str, headers: Mapping[str, str],
                          body: bytes) -> tuple[PaymentProvider, Notification]:
    """The provider and its notification, if the signature verifies (else `invalid_signature`)."""
    provider = registry.get(settings, provider_name)
    return provider, provider.parse_notification(headers, body)


def apply_notification(session: Session, provider: PaymentProvider, note: Notification, settings: Settings) -> str:
    """Apply a verified notification in the caller's transaction, once per notify id: the outcome ('paid',
    'late_payment', 'failed', 'duplicate', ...). A late payment's refund is then sent outside it
    (refunds.send_pending_for_reference)."""
    record_id = repository.record_notification(session, provider=provider.name, notify_id=note.notify_id,
                                               kind=note.kind, reference=note.reference,
                                               payload=_jsonable(note.payload))
    if record_id is None:  # seen before, or a concurrent delivery of the same id won: this one is a replay
        return "duplicate"
    if note.kind == "refund":
        outcome = refunds.settle_from_notification(session, provider.name, note)
    else:
        outcome = _payment_notification(session, provider, note, settings)
    repository.notification_outcome(session, record_id, outcome)
    return outcome


def _payment_notification(session: Session, provider: PaymentProvider, note: Notification, settings: Settings) -> str:
    payment = repository.payment_by_reference(session, note.reference)
    if payment is None or payment.provider != provider.name:
        raise PaymentNotFound(f"No {provider.name} payment has the reference '{note.reference}'.")
    if note.succeeded is None:
        return "ignored"
    if not note.succeeded:
        return apply_failure(session, payment)
    return apply_success(session, payment, amount_fen=note.amount_fen, provider_reference=note.provider_reference,
                         settings=settings)


def _jsonable(payload: dict) -> dict:
    return {str(k)[:64]: (v if isinstance(v, int | float | bool) or v is None else str(v)[:500])
            for k, v in list(payload.items())[:64]}


# --- reading ----------------------------------------------------------------------------------


def visible_payments(session: Session, principal: Principal, order_id: int) -> list[Payment]:
    order = orders.get_order(session, order_id)
    orders.authorize_view(principal, order)
    return repository.payments_of_order(session, order.id)


def visible_payment(session: Session, principal: Principal, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise PaymentNotFound()
    orders.authorize_view(principal, orders.get_order(session, payment.order_id), hidden_as=PaymentNotFound)
    return payment
