"""Payment routes: pay an order, refund it, read payments and refunds, and the providers' notify URLs."""

from functools import partial

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from daodian.accounts.authz import require_login
from daodian.accounts.own_transaction_deps import AppSettings, Factory, OwnLoggedIn, scope_of
from daodian.kit.api import idempotency
from daodian.kit.api.group_commit import group_commit_of
from daodian.kit.api.http import ObjectId, access, transaction_factory
from daodian.kit.api.scopes import declare
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError, ErrorEnvelope
from daodian.kit.worker_threads import run_sync
from daodian.orders import service as orders
from daodian.payments import refunds, service
from daodian.payments.providers import registry
from daodian.payments.schemas import NotifyAck, PayIn, PaymentRead, ProvidersRead, RefundCreate, RefundRead

router = APIRouter(tags=["payments"])
declare(router, "payment:read", "payment:write")  # the scopes apps' tokens need here (kit.api.scopes)
PROVIDER_ERROR = {502: {"model": ErrorEnvelope, "description": "The payment provider failed; retry later."}}


@router.get("/payments/providers", response_model=ProvidersRead, openapi_extra=access("public"))
def providers(settings: AppSettings) -> ProvidersRead:
    """The payment providers this deployment offers."""
    return ProvidersRead(available=registry.available(settings))


# OpenAPI links (with orders.endpoints.ORDER_LINKS: order -> pay -> refund, for clients and for
# schemathesis' stateful phase, tests/test_api_stateful.py).
_PAID_ORDER = {"order_id": "$response.body#/order_id"}
PAYMENT_LINKS = {
    "GetPayment": {"operationId": "get_payment_api_v1_payments__payment_id__get",
                   "parameters": {"payment_id": "$response.body#/id"}},
    "OrderPayments": {"operationId": "order_payments_api_v1_orders__order_id__payments_get", "parameters": _PAID_ORDER},
    "RefundOrder": {"operationId": "refund_api_v1_orders__order_id__refunds_post", "parameters": _PAID_ORDER},
}
REFUND_LINKS = {
    "OrderRefunds": {"operationId": "order_refunds_api_v1_orders__order_id__refunds_get", "parameters": _PAID_ORDER},
    "GetRefundedOrder": {"operationId": "get_order_api_v1_orders__order_id__get", "parameters": _PAID_ORDER},
}


@router.post("/orders/{order_id}/pay", status_code=status.HTTP_201_CREATED, response_model=PaymentRead,
             openapi_extra=idempotency.openapi("self"),
             responses={200: {"model": PaymentRead, "description": "The payment already under way.",
                              "links": PAYMENT_LINKS},
                        201: {"description": "The payment, pending or (offline) succeeded.", "links": PAYMENT_LINKS},
                        **PROVIDER_ERROR})
def pay(order_id: ObjectId, body: PayIn, request: Request, principal: OwnLoggedIn,
        idempotency_key: idempotency.KeyHeader) -> JSONResponse:
    """Pay an order; the amount is the order's total, computed by the server. Requires `Idempotency-Key`.

    Online providers (`sandbox`, `alipay`, `wechatpay`; the consumer who placed the order) answer with a
    pending payment and its `pay_url`; the order becomes paid only when the provider's signed notification
    arrives. `offline` (counter staff of the merchant: cash or card at the store's POS, with `store_id` and
    `method`) is paid at once. Paying again while a payment is pending returns that payment (200).

    Errors: `idempotency_key_required` (400), `idempotency_key_reused` (422), `idempotency_in_progress`
    (409), `provider_unavailable` (400), `order_not_payable` (409), `order_expired` (409),
    `validation_error` (422: offline without store_id and method), `invalid_store` (422), `provider_error`
    (502), `order_not_found` (404).
    """
    require_login(principal)
    factory, settings = transaction_factory(request), request.app.state.settings
    if _started_remotely(settings, body.provider):  # transactions before and after the provider's answer
        return idempotency.run(
            request, scope=scope_of(principal), key=idempotency_key, body=body,
            work=lambda claim: service.pay(factory, settings, principal, order_id, body, str(request.base_url), claim))
    base = service.base_url(settings, str(request.base_url))
    # Lazy expiry in its own transaction (it sticks even if the payment is then refused), before the payment's,
    # which is written with the other requests' of the moment (kit.api.group_commit).
    orders.expire_if_due(factory, order_id)

    def work(session: Session, claim: idempotency.Claim):
        return service.pay_in(session, settings, principal, order_id, body, base, claim)

    return idempotency.run_unit(request, scope=scope_of(principal), key=idempotency_key, body=body, unit=work)


def _started_remotely(settings, provider_name: str) -> bool:
    """A provider whose start is a remote call; an unknown one too (its refusal is told the usual way)."""
    try:
        return registry.get(settings, provider_name).remote_start
    except DomainError:
        return True


@router.get("/orders/{order_id}/payments", response_model=list[PaymentRead],
            openapi_extra=access("self|merchant:console.view"))
def order_payments(order_id: ObjectId, principal: OwnLoggedIn, factory: Factory) -> list[PaymentRead]:
    """Every payment attempt of an order, for its consumer and the merchant's staff."""
    require_login(principal)
    with unit_of_work(factory, read_only=True) as session:
        return [service.payment_read(p) for p in service.visible_payments(session, principal, order_id)]


@router.get("/payments/{payment_id}", response_model=PaymentRead, openapi_extra=access("self|merchant:console.view"))
def get_payment(payment_id: ObjectId, principal: OwnLoggedIn, factory: Factory) -> PaymentRead:
    """One payment (poll it after paying). Errors: `payment_not_found` (404)."""
    require_login(principal)
    with unit_of_work(factory, read_only=True) as session:
        return service.payment_read(service.visible_payment(session, principal, payment_id))


@router.post("/orders/{order_id}/refunds", status_code=status.HTTP_201_CREATED, response_model=RefundRead,
             openapi_extra=idempotency.openapi("self|merchant:store.manage"),
             responses={201: {"description": "The refund, pending or succeeded.", "links": REFUND_LINKS},
                        **PROVIDER_ERROR})
def refund(order_id: ObjectId, body: RefundCreate, request: Request, principal: OwnLoggedIn,
           idempotency_key: idempotency.KeyHeader) -> JSONResponse:
    """Refund all or part of a paid order through the provider that took the money. Requires `Idempotency-Key`.

    Product orders: `amount_fen` (default: all that is left), at most paid minus refunded. Service orders:
    unused voucher uses only (`voucher_id` and `uses`, default all unused uses); they are voided and
    their value refunded. The consumer may refund unused voucher uses and product orders not yet handed
    over; the merchant's managers anything; refunds of offline payments are recorded by counter staff.
    The refund is `succeeded`, or `pending` until the provider confirms. A full refund makes the order
    `refunded`.

    Errors: `idempotency_key_required` (400), `idempotency_key_reused` (422), `idempotency_in_progress`
    (409), `order_not_refundable` (409), `refund_exceeds_remaining` (422), `voucher_not_refundable`
    (409: used up or refunded), `nothing_to_refund` (409), `refund_amount_mismatch`, `refund_by_amount`,
    `voucher_id_required`, `voucher_not_of_order` (422), `refund_needs_merchant` (409), `provider_unavailable`
    (400), `order_not_found` (404).
    """
    require_login(principal)
    factory, settings = transaction_factory(request), request.app.state.settings
    base = service.base_url(settings, str(request.base_url))
    return idempotency.run(
        request, scope=scope_of(principal), key=idempotency_key, body=body,
        work=lambda claim: refunds.request_refund(factory, settings, principal, order_id, body, base, claim))


@router.get("/orders/{order_id}/refunds", response_model=list[RefundRead],
            openapi_extra=access("self|merchant:console.view"))
def order_refunds(order_id: ObjectId, principal: OwnLoggedIn, factory: Factory) -> list[RefundRead]:
    """The refunds of an order."""
    require_login(principal)
    with unit_of_work(factory, read_only=True) as session:
        return [refunds.refund_read(r) for r in refunds.visible_refunds(session, principal, order_id)]


# --- notifications from the providers ---------------------------------------------------------
# Provider callbacks, not client API: kept out of the published schema (a client could never sign one).
# A notification is verified in the event loop and applied with the others that arrive meanwhile, one commit
# for all (kit.api.group_commit: each in its savepoint, the answer its own transaction would give); a burst
# waits in that queue. They take no DbSlot: they need none (their batch's writer takes the write turn), and
# when plain POSTs took the turn before their slot, ten payments holding slots and waiting for the turn held by
# a notification waiting for a slot stopped the server (every route now takes its slot first: kit.api.http).

NOTIFY_DOC = """Errors: `invalid_signature` (400: the signature does not verify — nothing changes),
`invalid_notification` (400), `amount_mismatch` (400), `payment_not_found` / `refund_not_found` (404),
`provider_unavailable` (400). A replayed notification id is acknowledged and changes nothing."""


async def _notify(request: Request, provider_name: str) -> Response:
    body = await request.body()
    app, settings = request.app, request.app.state.settings
    provider, note = service.verified_notification(settings, provider_name, request.headers, body)
    outcome = await group_commit_of(app).run(partial(service.apply_notification, provider=provider, note=note,
                                                     settings=settings))
    if outcome == "late_payment":  # its refund goes to the provider outside any transaction
        await run_sync(refunds.send_pending_for_reference, transaction_factory(request), settings,
                                note.reference)
    media_type, text = provider.acknowledgement()
    return Response(text, media_type=media_type)


@router.post("/payments/notify/sandbox", response_model=NotifyAck, openapi_extra=access("public"), include_in_schema=False,
             description="The sandbox's signed notification: JSON, HMAC-SHA256 of the raw body in "
                         "`X-Sandbox-Signature` (hex).\n\n" + NOTIFY_DOC)
async def notify_sandbox(request: Request) -> Response:
    return await _notify(request, "sandbox")


@router.post("/payments/notify/alipay", response_class=Response, openapi_extra=access("public"), include_in_schema=False,
             responses={200: {"content": {"text/plain": {"example": "success"}}, "description": "Taken."}},
             description="Alipay's asynchronous notification (form-encoded, RSA2-signed); answered with the "
                         "text `success`.\n\n" + NOTIFY_DOC)
async def notify_alipay(request: Request) -> Response:
    return await _notify(request, "alipay")


@router.post("/payments/notify/wechatpay", response_model=NotifyAck, openapi_extra=access("public"), include_in_schema=False,
             description="WeChat Pay's API v3 notification (JSON, `Wechatpay-*` signature headers, AES-GCM "
                         "encrypted resource).\n\n" + NOTIFY_DOC)
async def notify_wechatpay(request: Request) -> Response:
    return await _notify(request, "wechatpay")
