"""The one middleware in front of the app: each request's id and metrics, the headers every response carries,
and the few requests that a domain answers or wraps before the framework does (its "doors").

Each of these was a middleware of its own (request ids, metrics, security headers, CORS for embedded apps,
rate-limit headers, the coupon claim's fast path): six coroutine layers and five wrapped `send`s that every
request went through, though most of them look at one header or one path and do nothing. Here a request
pays one layer and one wrapped `send`: header hooks are plain functions called on the response's first
message, and a door is entered only by the requests its test lets in.

What each adds is decided where it belongs (kit.html.security_headers, apps.rate_limits, apps.embed,
coupons.claim_fast_path); app.py lists them.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daodian.kit.ops.metrics import note_response
from daodian.kit.ops.request_ids import HEADER, current_request_id, request_id_of

# Adds headers to a response: (the request's scope, the response's headers, appended to in place).
HeaderHook = Callable[[Scope, list[tuple[bytes, bytes]]], None]


@dataclass(frozen=True)
class Door:
    """A way in for the requests `takes` says yes to: `make(app)` wraps the app as an ASGI middleware would, and
    those requests go through it (still inside the edge: their answers carry ids, headers and metrics)."""

    takes: Callable[[Scope], bool]
    make: Callable[[ASGIApp], ASGIApp]


class Edge:
    def __init__(self, app: ASGIApp, hooks: Iterable[HeaderHook] = (), doors: Iterable[Door] = ()) -> None:
        self.app = app
        self.hooks = tuple(hooks)
        self.doors = tuple((door.takes, door.make(app)) for door in doors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = current_request_id.set(request_id)  # on every log line written while the request runs
        started, status = time.perf_counter(), 500
        hooks = self.hooks

        async def send_at_edge(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (HEADER, request_id.encode())]
                for hook in hooks:
                    hook(scope, headers)
                message = {**message, "headers": headers}
            await send(message)

        app = self.app
        for takes, door in self.doors:
            if takes(scope):
                app = door
                break
        try:
            await app(scope, receive, send_at_edge)
        finally:
            note_response(scope, status, time.perf_counter() - started)
            current_request_id.reset(token)
