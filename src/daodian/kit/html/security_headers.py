"""Security headers on every response: what a browser may run, load, frame and send on our pages.

Pages get a Content-Security-Policy whose scripts are our own files plus the inline scripts that carry
this response's nonce (kit.html.rendering puts one in each rendered page), no framing (the counter screen
must not be framed by another site), no sniffing of content types, a referrer cut to our origin across
sites, and no camera, microphone or location except where a page needs them (the counter screen scans QR
codes with the camera; the consumer pages ask for the position to rank nearby stores). HSTS is sent when
the cookies are Secure, i.e. when the site is served over HTTPS. The JSON API gets nosniff only.

A header hook of the edge (kit.ops.edge): it touches the response's first message only, so it costs every
request a dict lookup and a few header appends.
"""

import re
from urllib.parse import urlsplit

from starlette.types import Scope

from daodian.kit.settings import Settings

# Paths whose page may use the camera: the counter's verify screen.
CAMERA_PATHS = re.compile(r"^/merchant/counter/\d+/verify$")
HSTS_SECONDS = 180 * 24 * 3600


def tile_source(url_template: str) -> str:
    """The CSP source of the map tiles' server ("" when they come from this site): the scheme and host of
    the tile URL template, its {s} label widened to `*` (CSP wildcards only whole leftmost labels)."""
    parts = urlsplit(url_template)
    if not parts.scheme or not parts.hostname:
        return ""
    host = parts.hostname
    if "{" in host:
        host = "*." + host.split(".", 1)[1] if "." in host else ""
    return f"{parts.scheme}://{host}" if host and "{" not in host else ""


def content_security_policy(nonce: str | None, images: str = "") -> str:
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    # Styles: the charts and htmx set inline styles on elements, which only 'unsafe-inline' allows; a
    # style cannot run code, so this is the usual trade.
    return ("default-src 'self'; "
            f"script-src {scripts}; "
            "style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{' ' + images if images else ''}; "
            "connect-src 'self'; "
            "font-src 'self'; "
            "object-src 'none'; "
            "base-uri 'self'; "
            "form-action 'self'; "
            "frame-ancestors 'none'")


def permissions_policy(path: str) -> str:
    camera = "(self)" if CAMERA_PATHS.match(path) else "()"
    return f"camera={camera}, microphone=(), geolocation=(self), payment=(), usb=()"


class SecurityHeaders:
    """A header hook of kit.ops.edge: `security_headers(scope, headers)` adds what the response lacks."""

    def __init__(self, settings: Settings) -> None:
        self.hsts = settings.cookie_secure
        self.images = tile_source(settings.map_tile_url)  # the map's tiles (web/listings)

    def __call__(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
        present = {name.lower() for name, _ in headers}
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        added = [(b"x-content-type-options", b"nosniff")]
        if content_type.startswith(b"text/html"):
            nonce = (scope.get("state") or {}).get("csp_nonce")
            added += [
                (b"content-security-policy", content_security_policy(nonce, self.images).encode()),
                (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"strict-origin-when-cross-origin"),
                (b"permissions-policy", permissions_policy(scope["path"]).encode()),
            ]
        if self.hsts:
            added.append((b"strict-transport-security", f"max-age={HSTS_SECONDS}".encode()))
        headers += [(name, value) for name, value in added if name not in present]
