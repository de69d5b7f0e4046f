"""WeChat Pay API v3 through the published `wechatpayv3` SDK (PyPI), with the platform public key.

Paying: a Native order (`/v3/pay/transactions/native`); `pay_url` is the `code_url` the consumer
scans. Notifications: JSON POSTs to `/api/v1/payments/notify/wechatpay`; the SDK's `callback`
checks the `Wechatpay-Signature` (RSA-SHA256 over timestamp, nonce and body) against the platform
public key and decrypts the AES-256-GCM resource with the APIv3 key. Payment events are
`TRANSACTION.SUCCESS`; refund events (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`) settle
refunds that the refund API answered with PROCESSING. Our refund number (`out_refund_no`) makes
refund retries safe.
"""

import json
from collections.abc import Mapping

import requests
from wechatpayv3 import WeChatPay, WeChatPayType

from daodian.payments.providers.base import (
    InvalidSignature,
    Notification,
    PaymentInfo,
    PaymentProvider,
    ProviderError,
    RefundInfo,
    RefundResult,
    Started,
)

REFUND_EVENTS = {"REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"}


class WechatPayProvider(PaymentProvider):
    name = "wechatpay"
    remote_start = True
    remote_refund = True

    def __init__(self, *, mchid: str, appid: str, apiv3_key: str, cert_serial_no: str, private_key: str,
                 public_key: str, public_key_id: str, gateway: str):
        self.mchid = mchid
        self._client = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=mchid, private_key=private_key,
                                 cert_serial_no=cert_serial_no, appid=appid, apiv3_key=apiv3_key,
                                 public_key=public_key, public_key_id=public_key_id, timeout=(5, 15))
        self._client._core._gate_way = gateway.rstrip("/")  # the SDK hard-codes the production host

    def start(self, payment: PaymentInfo) -> Started:
        try:
            code, message = self._client.pay(description=payment.subject[:127], out_trade_no=payment.out_trade_no,
                                             amount={"total": payment.amount_fen, "currency": "CNY"},
                                             notify_url=payment.notify_url, pay_type=WeChatPayType.NATIVE)
        except Exception as exc:  # the SDK raises bare Exception for a bad answer signature, requests' for the network
            raise ProviderError(f"WeChat Pay: {exc}"[:255]) from exc
        if not 200 <= code < 300:
            raise ProviderError(f"WeChat Pay refused the order ({code}).", details={"answer": str(message)[:500]})
        return Started(pay_url=json.loads(message)["code_url"])

    def refund(self, refund: RefundInfo) -> RefundResult:
        try:
            code, message = self._client.refund(
                out_refund_no=refund.out_refund_no, out_trade_no=refund.out_trade_no,
                amount={"refund": refund.amount_fen, "total": refund.payment_amount_fen, "currency": "CNY"},
                reason=refund.reason[:80] or None, notify_url=refund.notify_url)
        except requests.RequestException as exc:  # unknown outcome: retry later with the same out_refund_no
            return RefundResult("pending", message=f"network: {exc}"[:255])
        except Exception as exc:
            raise ProviderError(f"WeChat Pay: {exc}"[:255]) from exc
        if not 200 <= code < 300:
            return RefundResult("failed", message=str(message)[:255])
        data = json.loads(message)
        status = data.get("status")
        result = "succeeded" if status == "SUCCESS" else "pending" if status == "PROCESSING" else "failed"
        return RefundResult(result, provider_refund_no=data.get("refund_id"), message=str(status))

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        try:
            data = self._client.callback({k.lower(): v for k, v in headers.items()}, body.decode("utf-8"))
        except Exception as exc:  # malformed headers, unknown algorithm: the same as a bad signature
            raise InvalidSignature() from exc
        if not data or not isinstance(data.get("resource"), dict):
            raise InvalidSignature()
        event, resource = data.get("event_type", ""), data["resource"]
        if resource.get("mchid", self.mchid) != self.mchid:
            raise InvalidSignature("The notification is for another merchant id.")
        amount = resource.get("amount") or {}
        if event in REFUND_EVENTS:
            return Notification(notify_id=str(data.get("id"))[:128], kind="refund",
                                reference=str(resource.get("out_refund_no", ""))[:64],
                                succeeded=resource.get("refund_status") == "SUCCESS", amount_fen=amount.get("refund"),
                                provider_reference=resource.get("refund_id"), payload=resource)
        state = resource.get("trade_state")
        succeeded = True if state == "SUCCESS" else False if state in ("CLOSED", "PAYERROR", "REVOKED") else None
        return Notification(notify_id=str(data.get("id"))[:128], kind="payment",
                            reference=str(resource.get("out_trade_no", ""))[:64], succeeded=succeeded,
                            amount_fen=amount.get("total"), provider_reference=resource.get("transaction_id"),
                            payload=resource)
