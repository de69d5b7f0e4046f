"""Checking a webhook delivery before trusting it.

daodian signs each delivery with HMAC-SHA256 over ``"<t>.<raw body>"`` and sends
``Daodian-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]`` (a second ``v1`` while a rotated-out secret is still
valid). A delivery is genuine when some ``v1`` matches some secret you hold, compared in constant time, and
``t`` lies within the tolerance window of now (an old, replayed delivery is refused). Pass the raw body bytes:
re-serialised JSON would not match.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

SIGNATURE_HEADER = "Daodian-Signature"
DEFAULT_TOLERANCE = 300  # seconds either way


class SignatureError(ValueError):
    """The delivery is not to be trusted; `reason` says why (malformed, expired, mismatch)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_header(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed", "the signature header has no t= or no v1=")
    return timestamp, signatures


def expected_signature(secret: str, timestamp: int, payload: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()


def verify_signature(payload: bytes, header: str, secrets: str | Sequence[str], *,
                     tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> int:
    """Raise SignatureError unless the header signs `payload` with one of `secrets` within the tolerance
    window; returns the signed timestamp. Several secrets: the current and the previous during a rotation."""
    if isinstance(payload, str):
        payload = payload.encode()
    timestamp, signatures = parse_header(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("expired", f"the signature's time is {now - timestamp:+.0f} s from now "
                                        f"(tolerance {tolerance} s): a replay, or a skewed clock")
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    matched = False
    for secret in keys:
        expected = expected_signature(secret, timestamp, payload)
        for candidate in signatures:  # every comparison runs: no early exit that timing could reveal
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("mismatch", "no v1 signature matches a known secret")
    return timestamp


def construct_event(payload: bytes, header: str, secrets: str | Sequence[str], *,
                    tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> dict[str, Any]:
    """The event, once its signature is verified. De-duplicate on its `id`: a delivery may come more than once."""
    verify_signature(payload, header, secrets, tolerance=tolerance, now=now)
    return json.loads(payload)
