"""A request id on every request: taken from the caller's X-Request-Id when it looks like one (a proxy's), else
made here; put on the response (kit.ops.edge) and on every log line written while the request runs (kit.ops.logs)."""

import itertools
import os
import re
import secrets
from contextvars import ContextVar

from starlette.types import Scope

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


def request_id_of(scope: Scope) -> str:
    """The caller's id when it looks like one (a proxy's), else a new one (kit.ops.edge puts it on the answer)."""
    given = next((value for name, value in scope["headers"] if name == HEADER), None)
    return given.decode() if given and _ACCEPTED.match(given) else new_request_id()
