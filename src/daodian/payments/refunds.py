"""Refunds, full or partial, always through the provider that took the money.

1. In one transaction, with the order row locked: check who may refund, plan the amount (product
   orders: any amount up to what is left; service orders: whole unused voucher uses, voided here
   with conditional UPDATEs so a use being verified at that moment cannot also be refunded), and
   reserve it on the order (`refunded_fen + amount <= paid_fen`, one conditional UPDATE) and on the
   payment. The refund row is `pending`.
2. Outside any transaction, ask the provider (sandbox and offline answer at once, inside step 1).
3. In a second transaction, settle: `succeeded` (facts; the order becomes `refunded` once all is
   back), `failed` (reservation and voucher uses given back), or still `pending` (WeChat's
   PROCESSING, or an unknown outcome: the provider's notification or `daodian jobs retry-refunds`
   settles it later; providers dedupe on our `out_refund_no`, so asking again is safe).

Who: the consumer may refund unused voucher uses, and product orders not yet handed over; the
merchant's managers (`store.manage`) may refund anything left; refunds of offline (POS) payments
are counter staff handing the money back (`counter`).

Coupons and points (checkout.discounts): a refund pays back at most what a line cost after its
share of the discount (service vouchers are valued net of it; product orders by amount, at most what
was paid). A partial refund keeps the coupons used and the points spent; once the order is refunded in
full, its coupons are released by the marketing rule and its points spend is reversed in full.
"""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Action, Principal, authorize, authorize_self
from daodian.kit.api import idempotency
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import Invalid, NotFound
from daodian.kit.events import publish
from daodian.kit.facts import append_fact
from daodian.kit.settings import Settings
from daodian.orders import service as orders
from daodian.orders import states
from daodian.orders.errors import OrderNotFound
from daodian.orders.models import Order, OrderKind, OrderStatus
from daodian.payments import repository
from daodian.payments.errors import (
    AmountMismatch,
    NothingToRefund,
    OrderNotRefundable,
    RefundAmountMismatch,
    RefundExceedsRemaining,
    RefundNeedsMerchant,
    VoucherNotRefundable,
)
from daodian.payments.events import RefundSucceeded
from daodian.payments.models import Payment, Refund, RefundStatus
from daodian.payments.providers import registry
from daodian.payments.providers.base import Notification, PaymentProvider, ProviderError, RefundInfo, RefundResult
from daodian.payments.references import new_reference
from daodian.payments.schemas import RefundCreate, RefundRead
from daodian.vouchers import order_completion
from daodian.vouchers import service as vouchers


def refund_read(refund: Refund) -> RefundRead:
    return RefundRead.model_validate(refund)


def request_refund(factory: sessionmaker[Session], settings: Settings, principal: Principal, order_id: int,
                   data: RefundCreate, base: str, claim: idempotency.Claim) -> tuple[int, RefundRead]:
    with unit_of_work(factory) as session:
        refund = repository.refund_for_key(session, claim.id)  # a retry of a request that died midway
        if refund is None:
            refund = _open(session, settings, principal, order_id, data, claim.id)
        provider = registry.get(settings, refund.provider)
        info = _info(session, refund, base)
        if refund.status == RefundStatus.PENDING and not provider.remote_refund:
            settle(session, refund, provider.refund(info))
        if refund.status != RefundStatus.PENDING or not provider.remote_refund:
            read = refund_read(refund)
            claim.complete(session, 201, idempotency.dump(read))
            return 201, read
    result = _ask(provider, info)  # no transaction open while the provider answers
    with unit_of_work(factory) as session:
        refund = session.get(Refund, info.refund_id, populate_existing=True)
        settle(session, refund, result)
        read = refund_read(refund)
        claim.complete(session, 201, idempotency.dump(read))
        return 201, read


def _open(session: Session, settings: Settings, principal: Principal, order_id: int, data: RefundCreate,
          key_id: int | None) -> Refund:
    order = orders.locked_order(session, order_id)
    payment = repository.settling_payment(session, order.id)
    if payment is None or order.status not in states.REFUNDABLE:
        orders.authorize_view(principal, order)
        raise OrderNotRefundable(details={"status": order.status})
    registry.get(settings, payment.provider)  # a provider switched off cannot refund either
    _authorize(principal, order, payment)
    amount, voided = _plan(session, order, data)
    if not orders.reserve_refund(session, order, amount) or not _reserve_on_payment(session, payment, amount):
        raise RefundExceedsRemaining(details={"remaining_fen": order.paid_fen - order.refunded_fen})
    now = utcnow()
    refund = Refund(order_id=order.id, payment_id=payment.id, provider=payment.provider, status=RefundStatus.PENDING,
                    amount_fen=amount, reason=data.reason.strip(), voided_uses=voided,
                    out_refund_no=new_reference("R"), idempotency_key_id=key_id, requested_by=principal.user_id,
                    created_at=now)
    session.add(refund)
    session.flush()
    return refund


def _authorize(principal: Principal, order: Order, payment: Payment) -> None:
    if payment.provider == "offline":
        authorize(principal, Action.COUNTER, order.merchant_id)  # the cash goes back over the counter
        return
    if principal.is_authenticated and principal.can(Action.STORE_MANAGE, order.merchant_id):
        return
    authorize_self(principal, order.consumer_id, hidden_as=OrderNotFound, merchant_id=order.merchant_id)
    if order.kind == OrderKind.PRODUCT and order.status != OrderStatus.PAID:
        raise RefundNeedsMerchant()


def _plan(session: Session, order: Order, data: RefundCreate) -> tuple[int, dict[str, int]]:
    if order.kind == OrderKind.PRODUCT:
        if data.voucher_id is not None or data.uses is not None:
            raise Invalid("Product orders are refunded by amount.", code="refund_by_amount")
        remaining = order.paid_fen - order.refunded_fen
        if remaining <= 0:
            raise OrderNotRefundable()
        amount = remaining if data.amount_fen is None else data.amount_fen
        if amount > remaining:
            raise RefundExceedsRemaining(details={"remaining_fen": remaining})
        return amount, {}
    order_vouchers = order_completion.order_vouchers(session, order.id)
    if data.voucher_id is not None:
        voucher = next((v for v in order_vouchers if v.id == data.voucher_id), None)
        if voucher is None:
            # 422, not 404: the order (the address) exists; the body names a voucher that is not its own.
            raise Invalid("This order has no such voucher.", code="voucher_not_of_order",
                          details={"voucher_id": data.voucher_id})
        if voucher.uses_left == 0:
            raise VoucherNotRefundable(details={"voucher_id": voucher.id})
        uses = voucher.uses_left if data.uses is None else data.uses
        if uses > voucher.uses_left:
            raise RefundExceedsRemaining(f"This voucher has {voucher.uses_left} unused uses.",
                                         details={"uses_left": voucher.uses_left})
        picks = [(voucher, uses)]
    else:
        if data.uses is not None:
            raise Invalid("Name the voucher whose uses to refund.", code="voucher_id_required")
        picks = [(v, v.uses_left) for v in order_vouchers if v.uses_left > 0]
        if not picks:
            raise NothingToRefund()
    amount = sum(vouchers.net_refund_value(session, v, n) for v, n in picks)  # before voiding: depends on it
    if data.amount_fen is not None and data.amount_fen != amount:
        raise RefundAmountMismatch(details={"amount_fen": amount})
    if amount <= 0:
        raise NothingToRefund("These uses are free; there is nothing to pay back.")
    for voucher, uses in picks:
        if not vouchers.void_uses(session, voucher, uses):  # verified at the counter a moment ago
            raise VoucherNotRefundable(details={"voucher_id": voucher.id})
    return amount, {str(v.id): n for v, n in picks}


def settling_payment(session: Session, order_id: int) -> Payment | None:
    """The payment that paid the order (late payments excluded: they are refunded on their own)."""
    return repository.settling_payment(session, order_id)


def open_refund(session: Session, order: Order, amount: int, *, reason: str, now: datetime,
                voided_uses: dict[str, int] | None = None) -> Refund | None:
    """For the platform's own refunds (a group buy's difference, a lost pre-sale deposit): reserve `amount`
    on the order and on its settling payment and open a pending refund, which the caller sends after its
    commit (`send`; `retry_pending` covers a crash in between). None when the order has no settling payment
    or not that much is left to refund (then nothing is reserved)."""
    payment = repository.settling_payment(session, order.id)
    if payment is None or amount <= 0 or not orders.reserve_refund(session, order, amount):
        return None
    if not _reserve_on_payment(session, payment, amount):
        orders.release_refund(session, order, amount)
        return None
    refund = Refund(order_id=order.id, payment_id=payment.id, provider=payment.provider, status=RefundStatus.PENDING,
                    amount_fen=amount, reason=reason, voided_uses=voided_uses or {},
                    out_refund_no=new_reference("R"), created_at=now)
    session.add(refund)
    session.flush()
    return refund


def _reserve_on_payment(session: Session, payment: Payment, amount: int) -> bool:
    changed = session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.refunded_fen + amount <= Payment.amount_fen)
        .values(refunded_fen=Payment.refunded_fen + amount).execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(payment)
    return changed == 1


def _info(session: Session, refund: Refund, base: str) -> RefundInfo:
    payment = session.get(Payment, refund.payment_id)
    return RefundInfo(refund_id=refund.id, out_refund_no=refund.out_refund_no, out_trade_no=payment.out_trade_no,
                      provider_trade_no=payment.provider_trade_no, amount_fen=refund.amount_fen,
                      payment_amount_fen=payment.amount_fen, reason=refund.reason,
                      notify_url=f"{base}/api/v1/payments/notify/{refund.provider}")


def _ask(provider: PaymentProvider, info: RefundInfo) -> RefundResult:
    try:
        return provider.refund(info)
    except ProviderError as exc:  # the outcome is unknown: keep it pending and ask again later
        return RefundResult("pending", message=exc.message)


def settle(session: Session, refund: Refund, result: RefundResult, now: datetime | None = None) -> None:
    """Apply the provider's answer once (conditional on the refund still being pending)."""
    if result.status == "pending":
        return
    now = now or utcnow()
    order = orders.locked_order(session, refund.order_id)  # order first: the lock order everywhere
    payment = session.get(Payment, refund.payment_id, populate_existing=True)
    succeeded = result.status == "succeeded"
    changed = session.execute(
        update(Refund).where(Refund.id == refund.id, Refund.status == RefundStatus.PENDING)
        .values(status=RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED, completed_at=now,
                provider_refund_no=result.provider_refund_no, failure=None if succeeded else result.message[:255])
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(refund)
    if changed != 1:
        return
    if succeeded:
        append_fact(session, "payment.refunded" if payment.late else "order.refunded", {
            "refund_id": refund.id, "order_id": order.id, "payment_id": payment.id, "provider": payment.provider,
            "amount_fen": refund.amount_fen, "voided_uses": refund.voided_uses, "reason": refund.reason},
            occurred_at=now, merchant_id=order.merchant_id, store_id=order.store_id, consumer_id=order.consumer_id)
        if not payment.late:
            order_completion.settle_refund(session, order,
                                           refunded_fen_succeeded=repository.succeeded_refund_total(session, payment.id))
            publish(session, RefundSucceeded(order=order, refund=refund,
                                             fully_refunded=order.status == OrderStatus.REFUNDED))
        return
    session.execute(update(Payment).where(Payment.id == payment.id, Payment.refunded_fen >= refund.amount_fen)
                    .values(refunded_fen=Payment.refunded_fen - refund.amount_fen))
    if not payment.late:
        orders.release_refund(session, order, refund.amount_fen)
        for voucher_id, uses in refund.voided_uses.items():
            vouchers.restore_uses(session, int(voucher_id), uses)
        order_completion.after_uses_changed(session, order)


# --- late payments, notifications, retries ----------------------------------------------------


def open_late_refund(session: Session, payment: Payment) -> Refund:
    """Money that arrived for an order that had closed goes back in full."""
    session.execute(update(Payment).where(Payment.id == payment.id).values(refunded_fen=payment.amount_fen))
    refund = Refund(order_id=payment.order_id, payment_id=payment.id, provider=payment.provider,
                    status=RefundStatus.PENDING, amount_fen=payment.amount_fen, reason="late_payment", voided_uses={},
                    out_refund_no=new_reference("R"), created_at=utcnow())
    session.add(refund)
    session.flush()
    return refund


def settle_from_notification(session: Session, provider_name: str, note: Notification) -> str:
    refund = repository.refund_by_reference(session, note.reference)
    if refund is None or refund.provider != provider_name:
        raise NotFound(f"No {provider_name} refund has the reference '{note.reference}'.", code="refund_not_found")
    if note.succeeded is None:
        return "ignored"
    if note.amount_fen is not None and note.amount_fen != refund.amount_fen:
        raise AmountMismatch(details={"expected_fen": refund.amount_fen, "notified_fen": note.amount_fen})
    settle(session, refund, RefundResult("succeeded" if note.succeeded else "failed",
                                         provider_refund_no=note.provider_reference, message="provider notification"))
    return "refund_succeeded" if note.succeeded else "refund_failed"


def send(factory: sessionmaker[Session], settings: Settings, refund_id: int) -> str:
    """Ask the provider (again) about a pending refund and settle it; returns its status."""
    base = (settings.public_base_url or "").rstrip("/")
    with unit_of_work(factory, read_only=True) as session:
        refund = session.get(Refund, refund_id)
        if refund is None or refund.status != RefundStatus.PENDING:
            return refund.status if refund else "missing"
        provider = registry.get(settings, refund.provider)
        info = _info(session, refund, base)
    result = _ask(provider, info)
    with unit_of_work(factory) as session:
        refund = session.get(Refund, refund_id, populate_existing=True)
        settle(session, refund, result)
        return refund.status


def send_pending_for_reference(factory: sessionmaker[Session], settings: Settings, out_trade_no: str) -> None:
    with unit_of_work(factory, read_only=True) as session:
        payment = repository.payment_by_reference(session, out_trade_no)
        ids = [r.id for r in repository.refunds_of_order(session, payment.order_id)
               if r.payment_id == payment.id and r.status == RefundStatus.PENDING] if payment else []
    for refund_id in ids:
        send(factory, settings, refund_id)


def retry_pending(factory: sessionmaker[Session], settings: Settings, *, limit: int = 500) -> dict[str, int]:
    """The `daodian jobs retry-refunds` job."""
    with unit_of_work(factory, read_only=True) as session:
        ids = repository.pending_refund_ids(session, limit)
    counts: dict[str, int] = {}
    for refund_id in ids:
        status = send(factory, settings, refund_id)
        counts[status] = counts.get(status, 0) + 1
    return counts


def visible_refunds(session: Session, principal: Principal, order_id: int) -> list[Refund]:
    order = orders.get_order(session, order_id)
    orders.authorize_view(principal, order)
    return repository.refunds_of_order(session, order.id)
