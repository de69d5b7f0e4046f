"""Which providers this deployment offers, built from settings. Unconfigured ones are unavailable.

Clients are cached by their configuration (including the key files' contents), so a changed
setting or a rotated key takes effect without a restart.
"""

from functools import lru_cache
from pathlib import Path

from daodian.kit.errors import DomainError
from daodian.kit.settings import Settings
from daodian.payments.providers.alipay import AlipayProvider
from daodian.payments.providers.base import PaymentProvider
from daodian.payments.providers.offline import OfflineProvider
from daodian.payments.providers.sandbox import SandboxProvider
from daodian.payments.providers.wechatpay import WechatPayProvider

NAMES = ("sandbox", "offline", "alipay", "wechatpay")


class ProviderUnavailable(DomainError):
    status, code, message = 400, "provider_unavailable", "This payment provider is not available here."


def _read(path: Path | None) -> str | None:
    try:
        return path.read_text() if path else None
    except OSError:
        return None


@lru_cache(maxsize=8)
def _alipay(app_id: str, private_key: str, public_key: str, gateway: str) -> AlipayProvider:
    return AlipayProvider(app_id=app_id, app_private_key=private_key, alipay_public_key=public_key, gateway=gateway)


@lru_cache(maxsize=8)
def _wechatpay(mchid: str, appid: str, apiv3_key: str, serial: str, private_key: str, public_key: str,
               public_key_id: str, gateway: str) -> WechatPayProvider:
    return WechatPayProvider(mchid=mchid, appid=appid, apiv3_key=apiv3_key, cert_serial_no=serial,
                             private_key=private_key, public_key=public_key, public_key_id=public_key_id,
                             gateway=gateway)


def get(settings: Settings, name: str) -> PaymentProvider:
    provider = _build(settings, name)
    if provider is None:
        raise ProviderUnavailable(f"The payment provider '{name[:32]}' is not configured here.",
                                  details={"available": available(settings)})
    return provider


def available(settings: Settings) -> list[str]:
    return [name for name in NAMES if _build(settings, name) is not None]


def _build(settings: Settings, name: str) -> PaymentProvider | None:
    if name == "offline":
        return OfflineProvider()
    if name == "sandbox":
        return SandboxProvider(settings.sandbox_key) if settings.sandbox_enabled else None
    if name == "alipay":
        private, public = _read(settings.alipay_app_private_key_path), _read(settings.alipay_public_key_path)
        if settings.alipay_app_id and private and public:
            return _alipay(settings.alipay_app_id, private, public, settings.alipay_gateway)
    if name == "wechatpay":
        private, public = _read(settings.wechatpay_private_key_path), _read(settings.wechatpay_public_key_path)
        fields = (settings.wechatpay_mchid, settings.wechatpay_appid, settings.wechatpay_apiv3_key,
                  settings.wechatpay_cert_serial_no, settings.wechatpay_public_key_id)
        if all(fields) and private and public:
            return _wechatpay(*fields[:4], private, public, fields[4], settings.wechatpay_gateway)
    return None
