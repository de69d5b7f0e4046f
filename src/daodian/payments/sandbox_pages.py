"""The sandbox's pay page: what a consumer sees at a provider's cashier, with "Pay" and "Fail".

Pressing a button does not touch the order: it makes the sandbox send its signed notification to
`/api/v1/payments/notify/sandbox` in the background (payments.sandbox_delivery), and the order is
paid only when that arrives. The page's URL carries an HMAC token: only whoever was handed
`pay_url` can pay or fail the payment.
"""

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from daodian.accounts.own_transaction_deps import AppSettings, Factory
from daodian.kit.api.http import ObjectId
from daodian.kit.db import unit_of_work
from daodian.kit.errors import NotFound
from daodian.kit.html.rendering import render
from daodian.orders.models import Order, OrderStatus
from daodian.payments import sandbox_delivery
from daodian.payments.models import Payment, PaymentStatus
from daodian.payments.providers import registry
from daodian.payments.providers.sandbox import SandboxProvider

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Query(max_length=64)]


def _load(factory, settings, payment_id: int, token: str) -> tuple[SandboxProvider, Payment, Order]:
    provider = registry.get(settings, "sandbox")
    with unit_of_work(factory, read_only=True) as session:
        payment = session.get(Payment, payment_id)
        if payment is None or payment.provider != "sandbox" or not hmac.compare_digest(
                token.encode(), provider.page_token(payment.id, payment.out_trade_no).encode()):
            raise NotFound("No such sandbox payment.", code="payment_not_found")
        return provider, payment, session.get(Order, payment.order_id)


def _payable(payment: Payment, order: Order) -> bool:
    return payment.status == PaymentStatus.PENDING and order.status == OrderStatus.CREATED


@router.get("/sandbox/pay/{payment_id}", response_class=HTMLResponse)
def pay_page(request: Request, payment_id: ObjectId, factory: Factory, settings: AppSettings,
             token: Token = "") -> HTMLResponse:
    _, payment, order = _load(factory, settings, payment_id, token)
    return render(request, "payments/sandbox.html", {"payment": payment, "order": order, "token": token,
                                                     "payable": _payable(payment, order), "submitted": None})


@router.post("/sandbox/pay/{payment_id}", response_class=HTMLResponse)
def submit(request: Request, payment_id: ObjectId, factory: Factory, settings: AppSettings,
           token: Annotated[str, Form(max_length=64)] = "",
           outcome: Annotated[str, Form(pattern="^(pay|fail)$")] = "pay") -> HTMLResponse:
    provider, payment, order = _load(factory, settings, payment_id, token)
    payable = _payable(payment, order)
    if payable:
        body, headers = provider.notification(out_trade_no=payment.out_trade_no, amount_fen=payment.amount_fen,
                                              succeeded=outcome == "pay")
        base = (settings.sandbox_notify_base_url or str(request.base_url)).rstrip("/")
        sandbox_delivery.deliver_in_background(f"{base}/api/v1/payments/notify/sandbox", body, headers)
    return render(request, "payments/sandbox.html", {"payment": payment, "order": order, "token": token,
                                                     "payable": False, "submitted": outcome if payable else None},
                  status=202 if payable else 409)
