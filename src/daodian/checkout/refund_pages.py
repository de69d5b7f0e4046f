"""A consumer asks for a refund from the order page, with a reason. The request goes through the API's path
(payments.refunds.request_refund, behind the API's idempotency keys: the form carries a one-time key, so a
double tap opens one refund); the provider's answer settles it as it does for the API."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal, require_login
from daodian.accounts.own_transaction_deps import OwnPagePrincipal
from daodian.kit.api.http import ObjectId, transaction_factory
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import N_, CheckedForm, see_other, text
from daodian.orders.models import Order, OrderKind, OrderStatus
from daodian.payments import refunds
from daodian.payments import service as payments
from daodian.payments.page_payments import idempotent_page_call
from daodian.payments.schemas import RefundCreate

router = APIRouter()

# Why a consumer wants the money back (the code is stored with the refund, then what they wrote).
REASONS = {
    "changed_mind": N_("I changed my mind"),
    "cannot_go": N_("I cannot go to the store"),
    "bought_wrong": N_("I bought the wrong thing"),
    "store_problem": N_("The store could not serve me"),
    "other": N_("Other reason"),
}
REFUND_STATUS = {"pending": N_("Refund under way"), "succeeded": N_("Refunded"), "failed": N_("Refund failed")}


def can_request(order: Order, principal: Principal) -> bool:
    """What a consumer may refund themselves: unused vouchers of a service order, a product order not yet
    handed over (payments.refunds decides for sure; this only says whether to offer the form)."""
    if order.consumer_id != principal.user_id or order.refunded_fen >= order.paid_fen:
        return False
    if order.kind == OrderKind.SERVICE:
        return order.status in (OrderStatus.PAID, OrderStatus.VOUCHER_ISSUED)
    return order.status == OrderStatus.PAID


def refund_rows(session: Session, principal: Principal, order: Order) -> list[dict]:
    """The order's refunds for its page: when, how much, state and the reason given."""
    rows = []
    for refund in refunds.visible_refunds(session, principal, order.id):
        code, _, note = (refund.reason or "").partition(":")
        rows.append({"id": refund.id, "amount_fen": refund.amount_fen, "status": refund.status,
                     "status_label": REFUND_STATUS.get(refund.status, N_("Refund under way")),
                     "reason": REASONS.get(code.strip()), "note": note.strip(), "created_at": refund.created_at})
    return rows


@router.post("/orders/{order_id}/refund", response_class=HTMLResponse)
def request_refund(order_id: ObjectId, request: Request, principal: OwnPagePrincipal, form: CheckedForm) -> Response:
    require_login(principal)
    code = text(form, "reason", 20)
    if code not in REASONS:
        return see_other(f"/orders/{order_id}?problem=refund_reason_required#refund")
    note = " ".join(text(form, "note", 150).split())
    key = text(form, "form_key", 64)
    body = RefundCreate(reason=f"{code}: {note}" if note else code)
    factory, settings = transaction_factory(request), request.app.state.settings
    base = payments.base_url(settings, str(request.base_url))
    try:
        idempotent_page_call(request, principal, f"{key}:refund", body, lambda claim: refunds.request_refund(
            factory, settings, principal, order_id, body, base, claim))
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return see_other(f"/orders/{order_id}?problem={exc.code}#refund")
    return see_other(f"/orders/{order_id}?problem=refund_requested#refund")
