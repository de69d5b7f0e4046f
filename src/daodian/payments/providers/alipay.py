"""Alipay through the published `python-alipay-sdk` (PyPI), RSA2 keys, its own signing and verifying.

Paying: the SDK signs an `alipay.trade.wap.pay` request locally; `pay_url` opens Alipay's cashier.
Notifications: form-encoded POSTs to `/api/v1/payments/notify/alipay`, verified with the SDK's
`verify` against Alipay's public key (sign and sign_type excluded, the rest sorted, as Alipay
specifies); we answer the bare text `success`. Refunds: `alipay.trade.refund`, synchronous, with
our refund number as `out_request_no`, which Alipay dedupes, so retrying a refund is safe.
"""

from collections.abc import Mapping
from urllib.parse import parse_qsl

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError

from daodian.payments.providers.base import (
    InvalidSignature,
    Notification,
    PaymentInfo,
    PaymentProvider,
    ProviderError,
    RefundInfo,
    RefundResult,
    Started,
    fen_from_yuan,
    yuan,
)

PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}


class AlipayProvider(PaymentProvider):
    name = "alipay"
    remote_refund = True

    def __init__(self, *, app_id: str, app_private_key: str, alipay_public_key: str, gateway: str):
        self.app_id = app_id
        self._client = AliPay(appid=app_id, app_private_key_string=app_private_key,
                              alipay_public_key_string=alipay_public_key, sign_type="RSA2")
        self._client._gateway = gateway  # the SDK knows only Alipay's production and sandbox gateways
        self.gateway = gateway

    def start(self, payment: PaymentInfo) -> Started:
        query = self._client.api_alipay_trade_wap_pay(subject=payment.subject[:256], out_trade_no=payment.out_trade_no,
                                                      total_amount=yuan(payment.amount_fen),
                                                      notify_url=payment.notify_url)
        return Started(pay_url=f"{self.gateway}?{query}")

    def refund(self, refund: RefundInfo) -> RefundResult:
        try:
            result = self._client.api_alipay_trade_refund(
                refund_amount=yuan(refund.amount_fen), out_trade_no=refund.out_trade_no,
                out_request_no=refund.out_refund_no, refund_reason=refund.reason[:256] or None)
        except AliPayValidationError as exc:
            raise ProviderError("Alipay's answer did not verify.") from exc
        except AliPayException as exc:  # a business refusal (e.g. ACQ.TRADE_HAS_FINISHED)
            return RefundResult("failed", message=str(exc)[:255])
        except OSError as exc:  # the outcome is unknown: stay pending, a retry reuses out_request_no
            return RefundResult("pending", message=f"network: {exc}"[:255])
        if result.get("code") != "10000":
            return RefundResult("failed", message=f"{result.get('code')} {result.get('sub_code')}: "
                                                  f"{result.get('sub_msg')}"[:255])
        return RefundResult("succeeded", provider_refund_no=result.get("trade_no"))

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidSignature("The notification is not a form.") from exc
        signature = params.pop("sign", "")
        try:
            verified = bool(signature) and self._client.verify(dict(params), signature)
        except (AliPayException, ValueError, TypeError):
            verified = False
        if not verified or params.get("app_id") != self.app_id:
            raise InvalidSignature()
        status = params.get("trade_status", "")
        succeeded = True if status in PAID else False if status == "TRADE_CLOSED" else None
        return Notification(
            notify_id=params.get("notify_id", "")[:128] or f"{params.get('out_trade_no')}:{status}",
            kind="payment", reference=params.get("out_trade_no", "")[:64], succeeded=succeeded,
            amount_fen=fen_from_yuan(params.get("total_amount")), provider_reference=params.get("trade_no"),
            payload=params)

    def acknowledgement(self) -> tuple[str, str]:
        return "text/plain", "success"  # Alipay keeps retrying until it reads exactly this
