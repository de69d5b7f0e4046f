"""The sandbox: a simulated online provider that behaves like the real ones, asynchronously.

Paying means opening `pay_url` (our own `/sandbox/pay/{payment_id}` page) and pressing "Pay" or
"Fail"; the sandbox then POSTs a notification signed with HMAC-SHA256 (`X-Sandbox-Signature`, hex,
over the raw body) to `/api/v1/payments/notify/sandbox` from a background thread, with retries
(payments.sandbox_delivery). The order is paid only when that notification arrives and verifies,
exactly as with Alipay or WeChat Pay. Refunds succeed synchronously (as Alipay's do).
"""

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping

from daodian.kit.clock import utcnow
from daodian.payments.providers.base import (
    InvalidSignature,
    Notification,
    PaymentInfo,
    PaymentProvider,
    RefundInfo,
    RefundResult,
    Started,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def __init__(self, key: bytes):
        self._key = key

    def sign(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def page_token(self, payment_id: int, out_trade_no: str) -> str:
        """The capability in the pay page's URL: only whoever got `pay_url` can pay or fail it."""
        return hmac.new(self._key, f"page:{payment_id}:{out_trade_no}".encode(), hashlib.sha256).hexdigest()[:32]

    def start(self, payment: PaymentInfo) -> Started:
        token = self.page_token(payment.payment_id, payment.out_trade_no)
        return Started(pay_url=f"{payment.pay_page_base}/sandbox/pay/{payment.payment_id}?token={token}")

    def refund(self, refund: RefundInfo) -> RefundResult:
        return RefundResult("succeeded", provider_refund_no=f"SBXR{secrets.token_hex(8).upper()}")

    def notification(self, *, out_trade_no: str, amount_fen: int, succeeded: bool) -> tuple[bytes, dict[str, str]]:
        """A signed payment notification, as the sandbox sends it."""
        body = json.dumps({
            "notify_id": secrets.token_hex(16), "kind": "payment", "out_trade_no": out_trade_no,
            "trade_no": f"SBX{secrets.token_hex(8).upper()}", "status": "succeeded" if succeeded else "failed",
            "amount_fen": amount_fen, "sent_at": utcnow().isoformat(),
        }, separators=(",", ":")).encode()
        return body, {"Content-Type": "application/json", SIGNATURE_HEADER: self.sign(body)}

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        signature = headers.get(SIGNATURE_HEADER.lower()) or headers.get(SIGNATURE_HEADER) or ""
        if not hmac.compare_digest(signature.encode(), self.sign(body).encode()):
            raise InvalidSignature()
        try:
            data = json.loads(body)
            notify_id, reference = str(data["notify_id"]), str(data["out_trade_no"])
            amount = data["amount_fen"]
            succeeded = data["status"] == "succeeded"
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidSignature("The notification is signed but malformed.", code="invalid_notification") from exc
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise InvalidSignature("The notification's amount is not an integer.", code="invalid_notification")
        return Notification(notify_id=notify_id[:128], kind="payment", reference=reference[:64], succeeded=succeeded,
                            amount_fen=amount, provider_reference=str(data.get("trade_no", ""))[:64] or None,
                            payload=data)
