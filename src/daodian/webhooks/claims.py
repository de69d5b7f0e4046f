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

from sqlalchemy import and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

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


def _due(now: datetime):
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                             earlier.object_key == WebhookDelivery.object_key,
                             earlier.status == DeliveryStatus.PENDING, earlier.id < WebhookDelivery.id)
    return and_(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
                WebhookEndpoint.status == EndpointStatus.ACTIVE, ~blocked)


def claim(session: Session, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Reserve up to `limit` due deliveries for `lease`; commit right after so other processes see the lease."""
    rows = session.execute(
        select(WebhookDelivery.id).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(_due(now)).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).scalars().all()
    if not rows:
        return []
    # Conditional on the lease still being free: on SQLite another process may have read the same rows.
    taken = set(session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_(rows), WebhookDelivery.status == DeliveryStatus.PENDING,
                                      or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now))
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
