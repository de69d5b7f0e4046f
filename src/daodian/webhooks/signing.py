"""How a delivery is signed: HMAC-SHA256 over "<unix time>.<body>" with the endpoint's secret, sent as
`Daodian-Signature: t=<unix time>,v1=<hex>`. While a rotated-out secret is still valid, a second `v1=` carries
its signature, so a receiver that still knows only the old secret keeps verifying. The receiver checks the
time against its tolerance window (replays) and compares in constant time (clients/python: daodian_sdk.webhooks).
"""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Daodian-Signature"
EVENT_ID_HEADER = "Daodian-Event-Id"
EVENT_TYPE_HEADER = "Daodian-Event-Type"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(24)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets_in_use: list[str], timestamp: int, body: bytes) -> str:
    """The header value: the time, then one v1 signature per secret in use (current first)."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets_in_use)])
