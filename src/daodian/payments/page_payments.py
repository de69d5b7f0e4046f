"""Paying from the pages: the provider's pay page for an order, reached through the API's idempotency keys so
that a form sent twice starts one payment (checkout and booking pages)."""

import json
import secrets

from fastapi import Request

from daodian.accounts.authz import Principal
from daodian.accounts.own_transaction_deps import scope_of
from daodian.kit.api import idempotency
from daodian.kit.api.http import transaction_factory
from daodian.payments import service as payments
from daodian.payments.providers import registry
from daodian.payments.schemas import PayIn

PAY_PROVIDER = "sandbox"  # the online provider the pages offer (Alipay and WeChat Pay go through their apps)


def new_form_key() -> str:
    return secrets.token_urlsafe(18)


def idempotent_page_call(request: Request, principal: Principal, key: str, body, work) -> dict:
    """Run `work` through the API's idempotency keys and return its stored (or replayed) JSON."""
    response = idempotency.run(request, scope=scope_of(principal), key=f"page:{key}" if key else None,
                               body=body, work=work)
    return json.loads(response.body)


def start_payment(request: Request, principal: Principal, key: str, order_id: int) -> str:
    """The provider's pay page for the order (a pending payment is reused, as in the API)."""
    factory, settings = transaction_factory(request), request.app.state.settings
    body = PayIn(provider=PAY_PROVIDER)
    payment = idempotent_page_call(request, principal, f"{key}:pay", body, lambda claim: payments.pay(
        factory, settings, principal, order_id, body, str(request.base_url), claim))
    return payment["pay_url"] or f"/orders/{order_id}"


def can_pay_online(request: Request) -> bool:
    return PAY_PROVIDER in registry.available(request.app.state.settings)
