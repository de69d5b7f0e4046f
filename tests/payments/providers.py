"""Stand-ins for Alipay's and WeChat Pay's servers, built from locally generated RSA keys.

Everything they sign is signed with the SDKs' own code (python-alipay-sdk's `sign_data`, wechatpayv3's
`Core.sign`), holding the *platform's* private key, exactly as the real servers would; our side
verifies with the matching public key through the same SDKs. Only the HTTP exchange is faked.
"""

import base64
import json
import secrets
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl

from alipay import AliPay
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3.core import Core

ALIPAY_APP_ID = "2021000000000001"
WECHAT_MCHID, WECHAT_APPID = "1900000109", "wxd678efh567hg6787"
WECHAT_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
APIV3_KEY = "a" * 16 + "B" * 16  # 32 bytes, as WeChat Pay issues them


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


@cache
def key_pair(name: str) -> KeyPair:  # noqa: ARG001 - one pair per role, generated once per run
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return KeyPair(private, public)


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


# --- Alipay -------------------------------------------------------------------------------------


def configure_alipay(monkeypatch, settings, directory: Path, gateway: str = "https://alipay.test/gateway.do") -> None:
    app, platform = key_pair("alipay-app"), key_pair("alipay-platform")
    monkeypatch.setattr(settings, "alipay_app_id", ALIPAY_APP_ID)
    monkeypatch.setattr(settings, "alipay_app_private_key_path", _write(directory, "app.pem", app.private_pem))
    monkeypatch.setattr(settings, "alipay_public_key_path", _write(directory, "alipay.pem", platform.public_pem))
    monkeypatch.setattr(settings, "alipay_gateway", gateway)


def alipay_server() -> AliPay:
    """Alipay's side: signs with the platform's private key (and could verify our app's signatures)."""
    return AliPay(appid=ALIPAY_APP_ID, app_private_key_string=key_pair("alipay-platform").private_pem,
                  alipay_public_key_string=key_pair("alipay-app").public_pem, sign_type="RSA2")


def alipay_notification(out_trade_no: str, total_yuan: str, *, status: str = "TRADE_SUCCESS",
                        notify_id: str | None = None, app_id: str = ALIPAY_APP_ID) -> dict[str, str]:
    """An asynchronous notification as Alipay posts it: form fields, signed with the SDK's sign_data."""
    fields = {
        "notify_time": "2026-01-01 12:00:00", "notify_type": "trade_status_sync",
        "notify_id": notify_id or secrets.token_hex(16), "app_id": app_id, "charset": "utf-8", "version": "1.0",
        "trade_no": f"2026{secrets.randbelow(10**20):020d}", "out_trade_no": out_trade_no,
        "trade_status": status, "total_amount": total_yuan, "receipt_amount": total_yuan,
        "buyer_id": "2088102177846880", "gmt_payment": "2026-01-01 12:00:00", "subject": "到店订单",
    }
    signed = alipay_server().sign_data(dict(fields))  # "k=v&...&sign=..." url-encoded
    form = dict(parse_qsl(signed))
    form["sign_type"] = "RSA2"
    return form


def app_request_verifies(params: dict[str, str]) -> bool:
    """How Alipay checks our app's request: every parameter but `sign` (sign_type included), sorted."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")
    return alipay_server()._verify(message, params["sign"])  # the SDK's own RSA2 verifier


class FakeAlipayResponse:
    def __init__(self, text: str):
        self._body = text.encode()

    def read(self) -> bytes:
        return self._body


def alipay_refund_answer(query_url: str, *, code: str = "10000") -> FakeAlipayResponse:
    """What Alipay's gateway answers to alipay.trade.refund: JSON whose response part is signed."""
    params = dict(parse_qsl(query_url.split("?", 1)[1]))
    assert params["method"] == "alipay.trade.refund" and app_request_verifies(params)
    biz = json.loads(params["biz_content"])
    if code == "10000":
        content = {"code": "10000", "msg": "Success", "trade_no": f"2026{secrets.randbelow(10**20):020d}",
                   "out_trade_no": biz["out_trade_no"], "fund_change": "Y", "refund_fee": biz["refund_amount"]}
    else:
        content = {"code": code, "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR", "sub_msg": "交易状态不合法"}
    part = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    signature = alipay_server()._sign(part)  # the SDK's own RSA2 signer
    return FakeAlipayResponse(f'{{"alipay_trade_refund_response":{part},"sign":"{signature}"}}')


# --- WeChat Pay ---------------------------------------------------------------------------------


def configure_wechatpay(monkeypatch, settings, directory: Path) -> None:
    merchant, platform = key_pair("wechat-merchant"), key_pair("wechat-platform")
    monkeypatch.setattr(settings, "wechatpay_mchid", WECHAT_MCHID)
    monkeypatch.setattr(settings, "wechatpay_appid", WECHAT_APPID)
    monkeypatch.setattr(settings, "wechatpay_apiv3_key", APIV3_KEY)
    monkeypatch.setattr(settings, "wechatpay_cert_serial_no", "444F4864EA9B34415")
    monkeypatch.setattr(settings, "wechatpay_private_key_path", _write(directory, "mch.pem", merchant.private_pem))
    monkeypatch.setattr(settings, "wechatpay_public_key_path", _write(directory, "wx.pem", platform.public_pem))
    monkeypatch.setattr(settings, "wechatpay_public_key_id", WECHAT_KEY_ID)
    monkeypatch.setattr(settings, "wechatpay_gateway", "https://wechatpay.test")


def wechat_server() -> Core:
    """WeChat Pay's side: the SDK's Core holding the platform's private key signs what the platform sends."""
    return Core(mchid=WECHAT_MCHID, cert_serial_no="platform", private_key=key_pair("wechat-platform").private_pem,
                apiv3_key=APIV3_KEY, public_key=key_pair("wechat-merchant").public_pem, public_key_id="merchant")


def wechat_signed_headers(body: str, *, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
    timestamp, nonce = timestamp or str(int(time.time())), nonce or secrets.token_hex(16)
    return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": WECHAT_KEY_ID,
            "Wechatpay-Signature": wechat_server().sign([timestamp, nonce, body]),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Content-Type": "application/json"}


def wechat_notification(event_type: str, resource: dict, *, notify_id: str | None = None) -> tuple[str, dict]:
    """A notification body with its resource AES-256-GCM encrypted under the APIv3 key, and signed headers."""
    nonce, associated = secrets.token_hex(6), "transaction"
    ciphertext = AESGCM(APIV3_KEY.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(), associated.encode())
    body = json.dumps({
        "id": notify_id or secrets.token_hex(16), "create_time": "2026-01-01T12:00:00+08:00",
        "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
                     "associated_data": associated, "ciphertext": base64.b64encode(ciphertext).decode()},
    })
    return body, wechat_signed_headers(body)


def wechat_paid(out_trade_no: str, total_fen: int, *, mchid: str = WECHAT_MCHID) -> dict:
    return {"mchid": mchid, "appid": WECHAT_APPID, "out_trade_no": out_trade_no,
            "transaction_id": f"4200{secrets.randbelow(10**24):024d}", "trade_type": "NATIVE", "trade_state": "SUCCESS",
            "amount": {"total": total_fen, "payer_total": total_fen, "currency": "CNY"}}


class FakeRequestsResponse:
    def __init__(self, status_code: int, payload: dict):
        self.status_code = status_code
        self.text = json.dumps(payload)
        self.content = self.text.encode()
        self.headers = {**wechat_signed_headers(self.text), "Content-Type": "application/json"}
