"""Rate limits per app installation (and per consumer's grant): a token bucket each, in this process.

A bucket holds up to `app_rate_burst` requests and refills at `app_rate_per_second`; a request takes one.
An empty bucket answers 429 `rate_limited` with Retry-After (seconds until a request is allowed again).
Every answer to an app's token carries the bucket's state in the IETF httpapi draft's separate headers:
RateLimit-Limit (the bucket's size), RateLimit-Remaining (requests left now), RateLimit-Reset (seconds until
the bucket is full again), and RateLimit-Policy `<burst>;w=<seconds to refill it>`.

Buckets are per server process (no shared store to ask on every request): with N processes behind a
balancer, an app may make up to N times the rate. Idle buckets are dropped past CAPACITY.
"""

import math
import threading
import time
from collections import OrderedDict

from fastapi import Request
from starlette.types import Scope

from daodian.apps.errors import RateLimited

CAPACITY = 100_000  # buckets kept at most (the least recently used go first)
STATE_KEY = "daodian_ratelimit"  # request.state: the headers to add to the answer


class TokenBuckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str, rate: float, burst: int, now: float | None = None) -> tuple[bool, float, float]:
        """(allowed, tokens left, seconds until one more token) after taking one token for `key`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - at) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > CAPACITY:
                self._buckets.popitem(last=False)
        return allowed, tokens, max(0.0, (1.0 - tokens) / rate)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


BUCKETS = TokenBuckets()


def headers(burst: int, rate: float, tokens: float) -> dict[str, str]:
    return {"RateLimit-Limit": str(burst), "RateLimit-Remaining": str(math.floor(tokens)),
            "RateLimit-Reset": str(math.ceil((burst - tokens) / rate)),
            "RateLimit-Policy": f"{burst};w={math.ceil(burst / rate)}"}


async def limit(request: Request, grant_key: str) -> None:
    """The gate kit.api.scopes runs for an app's request after its scope (registered at bootstrap)."""
    settings = request.app.state.settings
    rate, burst = settings.app_rate_per_second, settings.app_rate_burst
    allowed, tokens, wait = BUCKETS.take(grant_key, rate, burst)
    found = headers(burst, rate, tokens)
    if not allowed:
        raise RateLimited({**found, "Retry-After": str(max(1, math.ceil(wait)))})
    setattr(request.state, STATE_KEY, found)


def rate_limit_headers(scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
    """A header hook of kit.ops.edge: an app request's RateLimit-* headers (a dict lookup for every other one)."""
    found = (scope.get("state") or {}).get(STATE_KEY)
    if found:
        headers += ((k.lower().encode(), v.encode()) for k, v in found.items())
