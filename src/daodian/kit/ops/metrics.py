"""Prometheus metrics (prometheus-client): request latency by route template, responses by status, the
database pool, job runs and failures, and the money-moving counts (verifications, claims, payments).

Several server processes (DAODIAN_WORKERS > 1) share one view through prometheus-client's multiprocess mode:
`daodian serve` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers start, and /metrics
then sums every process's files. One process (the default, and the tests) keeps them in memory.

The request middleware is pure ASGI: one clock read and two observations per request.
"""

import os
import re
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

# Request latencies from 1 ms to 10 s: the hot paths live in the first buckets, a stuck request in the last.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram("daodian_request_seconds", "Time from request to the last byte of the response.",
                            ["method", "route"], buckets=LATENCY_BUCKETS)
RESPONSES = Counter("daodian_responses_total", "Responses sent, by route template and status code.",
                    ["method", "route", "status"])
POOL_CHECKED_OUT = Gauge("daodian_db_pool_checked_out", "Database connections in use.", multiprocess_mode="livesum")
POOL_SIZE = Gauge("daodian_db_pool_size", "Database connections the pool keeps.", multiprocess_mode="livesum")
JOB_RUNS = Counter("daodian_job_runs_total", "Periodic job runs that finished.", ["job"])
JOB_FAILURES = Counter("daodian_job_failures_total", "Periodic job runs that failed.", ["job"])
VERIFICATIONS = Counter("daodian_verifications_total", "Voucher uses verified at the counter (committed).")
CLAIMS = Counter("daodian_coupon_claims_total", "Coupons claimed (committed).")
PAYMENTS = Counter("daodian_payments_total", "Orders paid (committed).")

UNMATCHED = "unmatched"  # requests no route took (404s of made-up paths): one series, not one per path


_CONVERTOR = re.compile(r":\w+}")


def route_of(scope: Scope) -> str:
    """The route's template with its convertors left out (`/stores/{store_id}`), or "unmatched"."""
    path = getattr(scope.get("route"), "path", None)
    if not path:
        return UNMATCHED
    template = _TEMPLATES.get(path)
    if template is None:  # a regex substitution per request was a few microseconds of every one
        template = _TEMPLATES[path] = _CONVERTOR.sub("}", path)
    return template


_TEMPLATES: dict[str, str] = {}  # route path -> its template; as many as there are routes


# Each (method, route) and (method, route, status) series, found once: `labels()` takes a lock and builds a key
# per call, a few microseconds of every request.
_TIMINGS: dict[tuple[str, str], Any] = {}
_COUNTS: dict[tuple[str, str, int], Any] = {}


def note_response(scope: Scope, status: int, seconds: float) -> None:
    """Count a response and its time under its route's template (kit.ops.edge calls it for every request)."""
    route, method = route_of(scope), scope["method"]
    timing = _TIMINGS.get((method, route))
    if timing is None:
        timing = _TIMINGS[(method, route)] = REQUEST_SECONDS.labels(method, route)
    count = _COUNTS.get((method, route, status))
    if count is None:
        count = _COUNTS[(method, route, status)] = RESPONSES.labels(method, route, str(status))
    timing.observe(seconds)
    count.inc()


def watch_pool(engine: Engine) -> None:
    """Keep the pool gauges current as connections are checked in and out (no polling)."""
    POOL_SIZE.set(getattr(engine.pool, "size", lambda: 0)())

    @sa_event.listens_for(engine, "checkout")
    def _out(*_args) -> None:
        POOL_CHECKED_OUT.inc()

    @sa_event.listens_for(engine, "checkin")
    def _in(*_args) -> None:
        POOL_CHECKED_OUT.dec()


def count_after_commit(session: Session, counter: Counter) -> None:
    """Count one event of this unit of work only if it commits (a rolled-back verification is not one)."""
    if not session.info.get(_HOOKED):  # once per session: its commits count, its rollbacks forget
        session.info[_HOOKED] = True
        sa_event.listen(session, "after_commit", _flush_counts)
        sa_event.listen(session, "after_rollback", _drop_counts)
    session.info.setdefault(_PENDING, []).append(counter)


def counting(counter: Counter):
    """An event handler that counts its event once the unit of work that raised it commits."""
    def handler(session: Session, _event) -> None:
        count_after_commit(session, counter)
    return handler


def run_job(name: str, work):
    """Run one periodic job and count it: a run, or a failure (re-raised)."""
    try:
        result = work()
    except Exception:
        JOB_FAILURES.labels(name).inc()
        raise
    JOB_RUNS.labels(name).inc()
    return result


_HOOKED, _PENDING = "daodian_metrics_hooked", "daodian_metrics_after_commit"


def _flush_counts(session: Session) -> None:
    for counter in session.info.pop(_PENDING, []):
        counter.inc()


def _drop_counts(session: Session) -> None:
    session.info.pop(_PENDING, None)


def exposition() -> tuple[bytes, str]:
    """The text /metrics serves: this process's metrics, or every worker's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics in Prometheus' text format. Serve it on the internal network only (the proxy's job)."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)
