"""The delivery queue in the database: claiming due deliveries under a lease, and recording what came of them.

A runner claims a batch by setting `lease_until`; until then no other process takes those rows (PostgreSQL
also skips rows another claim is locking; SQLite's writers take turns). A process killed mid-send leaves its
leases to expire, and the deliveries go out again under the same event id: at least once.

Per-object order: a delivery is due only if no earlier delivery of the same endpoint about the same object is
still pending (waiting for a retry, or being sent), so a later event never overtakes an earlier one that has
not yet succeeded or been given up.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from daodian.webhooks.backoff import Backoff
from daodian.webhooks.models import DeliveryStatus, EndpointStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

DISABLED_FAILING = "failing_for_days"  # disabled_reason: every attempt failed for days (see Backoff)
DISABLED_BY_DEVELOPER = "by_developer"


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    url: str
    secrets: list[str]  # the endpoint's secret, then the rotated-out one while it is still valid
    event_id: str
    event_type: str
    body: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    latency_ms: int
    error: str | None


PAGE = 4  # due deliveries read per page along the due index, in multiples of the claim's size
_D = WebhookDelivery


def _free(now: datetime):
    return and_(_D.status == DeliveryStatus.PENDING, or_(_D.lease_until.is_(None), _D.lease_until < now))


def _claimable(session: Session, now: datetime, limit: int) -> list[int]:
    """Up to `limit` due deliveries, oldest first, skipping any with an earlier pending delivery about the same
    object at the same endpoint, or whose endpoint is not active.

    Read a page at a time along the due index (a plain ordered scan: no join or anti-join for the planner to
    get wrong on a queue table whose statistics lag), then checked with two indexed lookups for the page: a
    claim costs about its own size however long the backlog behind it. Pages go on past blocked deliveries,
    so those never starve the due ones behind them. PostgreSQL skips rows another claim is locking."""
    chosen: list[int] = []
    after = None
    active: dict[int, bool] = {}
    while len(chosen) < limit:
        page_size = limit * PAGE
        stmt = select(_D.id, _D.endpoint_id, _D.object_key, _D.next_attempt_at).where(_free(now),
                                                                                       _D.next_attempt_at <= now)
        if after is not None:  # keyset: after the last row read, by (next_attempt_at, id)
            stmt = stmt.where(_D.next_attempt_at >= after[0], or_(_D.next_attempt_at > after[0], _D.id > after[1]))
        page = session.execute(stmt.order_by(_D.next_attempt_at, _D.id).limit(page_size)
                               .with_for_update(skip_locked=True)).all()
        if not page:
            break
        after = (page[-1].next_attempt_at, page[-1].id)
        unknown = {r.endpoint_id for r in page} - set(active)
        if unknown:
            active.update({e: False for e in unknown})
            active.update({e: True for e in session.scalars(select(WebhookEndpoint.id).where(
                WebhookEndpoint.id.in_(unknown), WebhookEndpoint.status == EndpointStatus.ACTIVE))})
        first = _first_pending(session, [r for r in page if active[r.endpoint_id]])
        chosen += [r.id for r in page if active[r.endpoint_id] and first.get((r.endpoint_id, r.object_key)) == r.id]
        if len(page) < page_size:
            break
    return chosen[:limit]


def _first_pending(session: Session, rows: list) -> dict[tuple[int, str], int]:
    """For the (endpoint, object) of each row: the id of its earliest pending delivery (one index range per
    endpoint over the objects' keys; nothing later than the rows is read)."""
    first: dict[tuple[int, str], int] = {}
    by_endpoint: dict[int, set[str]] = {}
    for r in rows:
        by_endpoint.setdefault(r.endpoint_id, set()).add(r.object_key)
    upto = max((r.id for r in rows), default=0)
    for endpoint_id, keys in by_endpoint.items():
        for key, found in session.execute(
                select(_D.object_key, _D.id).where(_D.endpoint_id == endpoint_id, _D.object_key.in_(keys),
                                                   _D.status == DeliveryStatus.PENDING, _D.id <= upto)):
            if found < first.get((endpoint_id, key), found + 1):
                first[(endpoint_id, key)] = found
    return first


def claim(session: Session, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Reserve up to `limit` due deliveries for `lease`; commit right after so other processes see the lease."""
    rows = _claimable(session, now, limit)
    if not rows:
        return []
    # Conditional on the lease still being free: on SQLite another process may have read the same rows.
    taken = set(session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_(rows), _free(now))
        .values(lease_until=now + lease).returning(WebhookDelivery.id).execution_options(synchronize_session=False)
    ).scalars())
    found = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookEndpoint.url, WebhookEndpoint.secret,
               WebhookEndpoint.previous_secret, WebhookEndpoint.previous_secret_expires_at, WebhookDelivery.event_id,
               WebhookDelivery.event_type, WebhookDelivery.body, WebhookDelivery.attempts)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(taken)).order_by(WebhookDelivery.id)
    ).all()
    return [Claimed(r.id, r.endpoint_id, r.url, secrets_in_use(r.secret, r.previous_secret,
                                                               r.previous_secret_expires_at, now),
                    r.event_id, r.event_type, r.body, r.attempts) for r in found]


def secrets_in_use(secret: str, previous: str | None, previous_until: datetime | None, now: datetime) -> list[str]:
    return [secret, previous] if previous and previous_until and previous_until > now else [secret]


_DELIVERY = WebhookDelivery.__table__
_SET_RESULT = (update(_DELIVERY).where(_DELIVERY.c.id == bindparam("_id"))
               .values(status=bindparam("_status"), attempts=bindparam("_attempts"),
                       next_attempt_at=bindparam("_next"), lease_until=None, delivered_at=bindparam("_delivered"),
                       last_status_code=bindparam("_code"), last_latency_ms=bindparam("_latency"),
                       last_error=bindparam("_error")))


def record(session: Session, outcomes: list[Outcome], now: datetime, backoff: Backoff) -> None:
    """Store each attempt in the log, move each delivery on (done, retry later, or given up), and keep each
    endpoint's failure streak; an endpoint failing every attempt for days is disabled, saying why."""
    if not outcomes:
        return
    changes = []
    for o in outcomes:
        attempts = o.claimed.attempts + 1
        wait = None if o.succeeded else backoff.after_failure(attempts)
        status = (DeliveryStatus.SUCCEEDED if o.succeeded else
                  DeliveryStatus.PENDING if wait is not None else DeliveryStatus.FAILED)
        changes.append({"_id": o.claimed.delivery_id, "_status": status, "_attempts": attempts,
                        "_next": now + wait if wait is not None else o.attempted_at,
                        "_delivered": o.attempted_at if o.succeeded else None, "_code": o.status_code,
                        "_latency": o.latency_ms, "_error": o.error})
    session.connection().execute(_SET_RESULT, changes)
    session.execute(insert(WebhookAttempt), [
        {"delivery_id": o.claimed.delivery_id, "endpoint_id": o.claimed.endpoint_id, "attempted_at": o.attempted_at,
         "succeeded": o.succeeded, "status_code": o.status_code, "latency_ms": o.latency_ms, "error": o.error}
        for o in outcomes])
    _endpoint_health(session, outcomes, now, backoff)


def _endpoint_health(session: Session, outcomes: list[Outcome], now: datetime, backoff: Backoff) -> None:
    failures: dict[int, int] = {}
    recovered: set[int] = set()
    for o in outcomes:
        if o.succeeded:
            recovered.add(o.claimed.endpoint_id)
        else:
            failures[o.claimed.endpoint_id] = failures.get(o.claimed.endpoint_id, 0) + 1
    if recovered:
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(recovered))
                        .values(failing_since=None, consecutive_failures=0)
                        .execution_options(synchronize_session=False))
    for endpoint_id, count in failures.items():
        if endpoint_id in recovered:
            continue
        endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        endpoint.consecutive_failures += count
        endpoint.failing_since = endpoint.failing_since or now
        if (endpoint.status == EndpointStatus.ACTIVE and endpoint.failing_since <= now - backoff.disable_after
                and endpoint.consecutive_failures >= backoff.disable_min_failures):
            endpoint.status, endpoint.disabled_at = EndpointStatus.DISABLED, now
            endpoint.disabled_reason = DISABLED_FAILING
    session.flush()
