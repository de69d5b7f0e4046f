"""The embeddable "services near you" component, and who may embed it.

A merchant pastes `<script src="https://<daodian>/embed/nearby.js" data-app="<client_id>" data-product="<id>">`
on its own shop page. The script (web/static/embed/nearby.js) asks the public JSON API, from the shop's page,
for the product's linked services and their nearest stores, and for the merchant's coupons; each request
names the app (`client_id=`). `EmbedCors` lets a browser read those answers only from the origins the app
registered (its `web_origins`): any other origin gets 403 `origin_not_allowed` instead of the answer (and
its preflights fail). `/embed/frame` shows the same component in an iframe for shops that prefer
one; its Content-Security-Policy `frame-ancestors` names the same origins, so only they may frame it.

Cookies never cross: no `Access-Control-Allow-Credentials`; a consumer claims a coupon on daodian's own page.
"""

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from starlette.types import ASGIApp, Receive, Scope, Send

from daodian.apps.models import App
from daodian.kit.db import read_connection
from daodian.kit.errors import error_body
from daodian.kit.html.rendering import WEB_DIR, render
from daodian.kit.worker_threads import run_sync

router = APIRouter(include_in_schema=False)

SCRIPT = WEB_DIR / "static" / "embed" / "nearby.js"
ORIGINS_TTL_S = 30.0  # an edited origin list is honoured within this long in every process
CORS_PATHS = ("/api/v1/",)
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
EXPOSED_HEADERS = "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, Retry-After"


class OriginsOfApps:
    """client_id -> the app's registered web origins (empty: unknown or disabled app), kept ORIGINS_TTL_S."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[frozenset[str], float]] = {}

    def cached(self, client_id: str) -> frozenset[str] | None:
        found = self._known.get(client_id)
        if found is None or time.monotonic() - found[1] > ORIGINS_TTL_S:
            return None
        return found[0]

    def read(self, factory, client_id: str) -> frozenset[str]:
        with read_connection(factory) as connection:
            row = connection.execute(select(App.web_origins, App.disabled_at)
                                     .where(App.client_id == client_id)).first()
        origins = frozenset(row.web_origins) if row is not None and row.disabled_at is None else frozenset()
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[client_id] = (origins, time.monotonic())
        return origins

    def forget(self) -> None:
        self._known.clear()


ORIGINS = OriginsOfApps()


async def origins_of(app_state, client_id: str) -> frozenset[str]:
    found = ORIGINS.cached(client_id)
    if found is None:
        found = await run_sync(ORIGINS.read, app_state.session_factory, client_id)
    return found


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class EmbedCors:
    """CORS for requests that name an app (`client_id=` in the query) from a browser page on another origin.
    Every other request passes untouched after a look at its path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def takes(scope: Scope) -> bool:
        """The requests this door is for (kit.ops.edge lets only these through it)."""
        return scope["path"].startswith(CORS_PATHS) and b"client_id=" in scope.get("query_string", b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.takes(scope):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        client_id = parse_qs(scope["query_string"].decode("latin-1")).get("client_id", [""])[0][:64]
        if origin is None or not client_id:
            await self.app(scope, receive, send)
            return
        allowed = origin in await origins_of(scope["app"].state, client_id)
        if not allowed:
            await _refuse(send, origin)
            return
        cors = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                (b"access-control-expose-headers", EXPOSED_HEADERS.encode())]
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            await send({"type": "http.response.start", "status": 204, "headers": [
                *cors, (b"access-control-allow-methods", b"GET, POST, PATCH, PUT, DELETE"),
                (b"access-control-allow-headers", ALLOWED_HEADERS.encode()), (b"access-control-max-age", b"600")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *cors]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _refuse(send: Send, origin: str) -> None:
    """403 `origin_not_allowed`, readable by the refused page itself (the refusal and nothing else), so the
    component can say why it shows nothing."""
    body = json.dumps(error_body("origin_not_allowed", "This page's origin is not registered for the app.")).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"vary", b"Origin"),
                            (b"access-control-allow-origin", origin.encode("latin-1"))]})
    await send({"type": "http.response.body", "body": body})


@router.get("/embed/nearby.js")
def nearby_script() -> Response:
    """The component's script, for any page to load (what it may read is decided per request, above)."""
    return FileResponse(Path(SCRIPT), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"})


@router.get("/embed/frame", response_class=HTMLResponse)
async def nearby_frame(request: Request, client_id: str = Query(max_length=64),
                       product: int = Query(ge=1, le=2**62), lat: float | None = Query(None, ge=-90, le=90),
                       lng: float | None = Query(None, ge=-180, le=180)) -> Response:
    """The component in a page of its own, for an iframe on one of the app's registered origins only."""
    origins = await origins_of(request.app.state, client_id)
    if not origins:
        return Response(json.dumps(error_body("app_not_found", "No such app.")), status_code=404,
                        media_type="application/json")
    response = render(request, "developers/embed_frame.html",
                      {"client_id": client_id, "product": product, "lat": lat, "lng": lng})
    nonce = request.state.csp_nonce
    response.headers["content-security-policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        f"frame-ancestors {' '.join(sorted(origins))}")
    return response
