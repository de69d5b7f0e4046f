"""WeChat Pay API v3 through wechatpayv3 with locally generated RSA keys; only the HTTP exchange is faked."""

import json

import pytest
import requests
from sqlalchemy import select

from daodian.payments.models import ProviderNotification
from tests.orders.helpers import create_order, key, my_vouchers, pickup_body, service_body
from tests.payments.providers import (
    WECHAT_MCHID,
    FakeRequestsResponse,
    configure_wechatpay,
    wechat_notification,
    wechat_paid,
    wechat_signed_headers,
)


@pytest.fixture(autouse=True)
def wechatpay_configured(monkeypatch, settings, tmp_path):
    configure_wechatpay(monkeypatch, settings, tmp_path)


@pytest.fixture
def gateway(monkeypatch):
    """The SDK's HTTP calls, answered as WeChat Pay would (answers signed with the platform key)."""
    calls: list[tuple[str, dict]] = []
    answers: dict[str, tuple[int, dict]] = {}

    def post(url, json=None, data=None, headers=None, **kwargs):
        calls.append((url, json))
        assert headers["Authorization"].startswith(f'WECHATPAY2-SHA256-RSA2048 mchid="{WECHAT_MCHID}"')
        for suffix, (status, payload) in answers.items():
            if url.endswith(suffix):
                return FakeRequestsResponse(status, payload)
        raise requests.ConnectionError("no route to the fake WeChat Pay")

    monkeypatch.setattr(requests, "post", post)
    return calls, answers


def _pay(client, headers, order_id: int, gateway) -> dict:
    _, answers = gateway
    answers["/v3/pay/transactions/native"] = (200, {"code_url": "weixin://wxpay/bizpayurl?pr=abc123"})
    response = client.post(f"/api/v1/orders/{order_id}/pay", json={"provider": "wechatpay"},
                           headers={**headers, **key()})
    assert response.status_code == 201, response.text
    return response.json()


def _notify(client, body: str, headers: dict):
    return client.post("/api/v1/payments/notify/wechatpay", content=body.encode(), headers=headers)


def test_native_pay_returns_the_code_url(client, shop, me, gateway):
    order = create_order(client, me, service_body(shop.item))
    payment = _pay(client, me, order["id"], gateway)
    assert payment["pay_url"] == "weixin://wxpay/bizpayurl?pr=abc123" and payment["status"] == "pending"
    url, sent = gateway[0][-1]
    assert url == "https://wechatpay.test/v3/pay/transactions/native"
    assert sent["amount"] == {"total": 19900, "currency": "CNY"} and sent["out_trade_no"] == payment["out_trade_no"]
    assert sent["notify_url"].endswith("/api/v1/payments/notify/wechatpay")


def test_a_failing_gateway_fails_the_payment_and_frees_the_key(client, shop, me, gateway):
    order = create_order(client, me, service_body(shop.item))
    idem = key()
    response = client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "wechatpay"}, headers={**me, **idem})
    assert response.status_code == 502 and response.json()["error"]["code"] == "provider_error"
    assert client.get(f"/api/v1/orders/{order['id']}/payments", headers=me).json()[0]["status"] == "failed"
    gateway[1]["/v3/pay/transactions/native"] = (200, {"code_url": "weixin://wxpay/bizpayurl?pr=again"})
    retry = client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "wechatpay"}, headers={**me, **idem})
    assert retry.status_code == 201  # a 5xx is not stored: the same key runs again


def test_a_valid_notification_is_accepted_exactly_once(client, db, shop, me, gateway):
    order = create_order(client, me, service_body(shop.item))
    payment = _pay(client, me, order["id"], gateway)
    body, headers = wechat_notification("TRANSACTION.SUCCESS", wechat_paid(payment["out_trade_no"], 19900))
    first = _notify(client, body, headers)
    assert first.status_code == 200 and first.json()["code"] == "SUCCESS"
    assert _notify(client, body, headers).status_code == 200  # replay
    assert client.get(f"/api/v1/orders/{order['id']}", headers=me).json()["status"] == "voucher_issued"
    assert len(my_vouchers(client, me)) == 1
    assert db.scalars(select(ProviderNotification.outcome).where(ProviderNotification.provider == "wechatpay")).all() \
        == ["paid"]


@pytest.mark.parametrize("tamper", ["body", "signature", "timestamp", "apiv3_key", "other_mchid"])
def test_a_tampered_notification_is_rejected(client, shop, me, gateway, tamper):
    order = create_order(client, me, service_body(shop.item))
    payment = _pay(client, me, order["id"], gateway)
    body, headers = wechat_notification("TRANSACTION.SUCCESS", wechat_paid(payment["out_trade_no"], 19900))
    if tamper == "body":
        body = body.replace("2026-01-01T12:00:00", "2026-01-02T12:00:00")
        assert "2026-01-02" in body
    elif tamper == "signature":
        headers["Wechatpay-Signature"] = headers["Wechatpay-Signature"][::-1]
    elif tamper == "timestamp":
        headers["Wechatpay-Timestamp"] = str(int(headers["Wechatpay-Timestamp"]) + 1)
    elif tamper == "apiv3_key":  # signed correctly, but the resource does not decrypt with our key
        data = json.loads(body)
        data["resource"]["ciphertext"] = data["resource"]["ciphertext"][:-4] + "AAAA"
        body = json.dumps(data)
        headers = wechat_signed_headers(body)
    else:
        body, headers = wechat_notification("TRANSACTION.SUCCESS",
                                            wechat_paid(payment["out_trade_no"], 19900, mchid="1999999999"))
    response = _notify(client, body, headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_signature"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=me).json()["status"] == "created"


def test_refund_processing_then_settled_by_the_refund_notification(client, shop, me, gateway):
    order = create_order(client, me, pickup_body(shop.sku, shop.store))
    payment = _pay(client, me, order["id"], gateway)
    body, headers = wechat_notification("TRANSACTION.SUCCESS", wechat_paid(payment["out_trade_no"], 29900))
    _notify(client, body, headers)
    gateway[1]["/v3/refund/domestic/refunds"] = (200, {"refund_id": "50000000382019052709732678859",
                                                       "status": "PROCESSING"})
    refund = client.post(f"/api/v1/orders/{order['id']}/refunds", json={}, headers={**me, **key()}).json()
    assert refund["status"] == "pending"
    url, sent = gateway[0][-1]
    assert url.endswith("/v3/refund/domestic/refunds")
    assert sent["amount"] == {"refund": 29900, "total": 29900, "currency": "CNY"}
    [stored] = client.get(f"/api/v1/orders/{order['id']}/refunds", headers=me).json()
    resource = {"mchid": WECHAT_MCHID, "out_trade_no": payment["out_trade_no"], "refund_id": "5000000038201905",
                "out_refund_no": sent["out_refund_no"], "refund_status": "SUCCESS",
                "amount": {"total": 29900, "refund": 29900, "payer_total": 29900, "payer_refund": 29900}}
    note, note_headers = wechat_notification("REFUND.SUCCESS", resource)
    assert _notify(client, note, note_headers).status_code == 200
    [settled] = client.get(f"/api/v1/orders/{order['id']}/refunds", headers=me).json()
    assert stored["id"] == settled["id"] and settled["status"] == "succeeded"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=me).json()["status"] == "refunded"
