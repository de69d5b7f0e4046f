"""A request id on every request: taken from the caller's X-Request-Id when it looks like one (a proxy's), else
made here; put on the response and on every log line written while the request runs (kit.ops.logs)."""

import itertools
import os
import re
import secrets
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
_ACCEPTED = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")  # anything else (a huge or odd header) is replaced

current_request_id: ContextVar[str | None] = ContextVar("daodian_request_id", default=None)

# A made id is this process's random prefix and a count: 32 hex digits like a UUID's, unique across processes
# and restarts, without uuid4's system call and object per request (about 3% of a cheap request's time).
_PREFIX = secrets.token_hex(8)
_COUNT = itertools.count(1)


def _new_prefix() -> None:
    global _PREFIX
    _PREFIX = secrets.token_hex(8)


os.register_at_fork(after_in_child=_new_prefix)  # a forked worker is another process: its own prefix


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNT):016x}"


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == HEADER), None)
        request_id = given.decode() if given and _ACCEPTED.match(given) else new_request_id()
        token = current_request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), (HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)
