"""A device that logged in to an account before: a signed cookie set at every successful login.

The value is `<user id>.<device id>.<signature>`, an HMAC of the first two with the server's secret, so a
client cannot make one up or move one to another account. It is not a session (it logs nobody in): it
only tells the login throttle (accounts.login_throttle) that this device is the account owner's, whose
right password must get through while someone else is guessing at the same phone.
"""

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from daodian.kit.settings import Settings

DEVICE_COOKIE = "daodian_device"
DEVICE_COOKIE_DAYS = 365


def _signature(user_id: int, device_id: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"known-device:{user_id}.{device_id}".encode(), hashlib.sha256).hexdigest()[:32]


def issue(user_id: int, secret: str, current: str | None = None) -> str:
    """The cookie value for this device: the one it has if it is this account's, else a new device id."""
    device_id = device_of(current, user_id, secret) or secrets.token_urlsafe(16)
    return f"{user_id}.{device_id}.{_signature(user_id, device_id, secret)}"


def device_of(cookie: str | None, user_id: int | None, secret: str) -> str | None:
    """The device id if `cookie` is a genuine known-device cookie of `user_id`, else None."""
    if not cookie or user_id is None:
        return None
    parts = cookie[:200].split(".")
    if len(parts) != 3 or parts[0] != str(user_id) or not parts[1]:
        return None
    if not hmac.compare_digest(parts[2], _signature(user_id, parts[1], secret)):
        return None
    return parts[1]


def remember(request: Request, response: Response, user_id: int, settings: Settings) -> None:
    """Set (or renew) this device's cookie after a successful login, JSON or page alike."""
    value = issue(user_id, settings.secret_key, request.cookies.get(DEVICE_COOKIE))
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_COOKIE_DAYS * 86400, path="/", httponly=True,
                        samesite="lax", secure=settings.cookie_secure)


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (behind a proxy: run uvicorn with --proxy-headers and
    --forwarded-allow-ips so that this is the client, not the proxy)."""
    return request.client.host if request.client else None
