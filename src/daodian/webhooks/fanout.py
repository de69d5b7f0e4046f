"""From facts to deliveries: the outbox consumer "webhooks" turns each fact with a public event into one
delivery per endpoint subscribed to it, for the apps installed at the fact's merchant only (and holding the
event's scope), in the same transaction as the move of its cursor (kit.outbox: each fact exactly once).

A fact recorded before the installation or the endpoint existed is not sent: an app hears about what
happened while it was installed and listening.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from daodian.apps.models import App, AppInstallation
from daodian.kit import outbox
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.webhooks.catalogue import BY_FACT_KIND, EventType
from daodian.webhooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint

CONSUMER = "webhooks"


def event_id(fact_id: int, installation_id: int) -> str:
    """Stable for one fact at one installation: every retry and redelivery repeats it."""
    return f"evt_{fact_id}_{installation_id}"


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def envelope(event: EventType, fact: Fact, installation_id: int) -> dict[str, Any]:
    return {"id": event_id(fact.id, installation_id), "type": event.name, "created_at": _iso(fact.recorded_at),
            "occurred_at": _iso(fact.occurred_at), "merchant_id": fact.merchant_id, "store_id": fact.store_id,
            "consumer_id": fact.consumer_id, "installation_id": installation_id, "data": fact.payload}


def _listeners(session: Session, merchant_ids: set[int]) -> dict[int, list[tuple[WebhookEndpoint, AppInstallation]]]:
    """Per merchant: each active endpoint of each app live-installed there, with its installation."""
    rows = session.execute(
        select(WebhookEndpoint, AppInstallation)
        .join(AppInstallation, AppInstallation.app_id == WebhookEndpoint.app_id)
        .join(App, App.id == WebhookEndpoint.app_id)
        .where(AppInstallation.merchant_id.in_(merchant_ids), AppInstallation.uninstalled_at.is_(None),
               WebhookEndpoint.status == EndpointStatus.ACTIVE, App.disabled_at.is_(None))
    ).all()
    found: dict[int, list[tuple[WebhookEndpoint, AppInstallation]]] = defaultdict(list)
    for endpoint, installation in rows:
        found[installation.merchant_id].append((endpoint, installation))
    return found


def deliveries_for(session: Session, facts: list[Fact], now: datetime) -> list[dict[str, Any]]:
    """The delivery rows a batch of facts makes (not inserted)."""
    public = [(fact, BY_FACT_KIND[fact.kind]) for fact in facts
              if fact.kind in BY_FACT_KIND and fact.merchant_id is not None]
    if not public:
        return []
    listeners = _listeners(session, {fact.merchant_id for fact, _ in public})
    rows = []
    for fact, event in public:
        for endpoint, installation in listeners.get(fact.merchant_id, ()):
            if (event.name not in endpoint.events or event.scope not in installation.scopes.split()
                    or fact.recorded_at < installation.installed_at or fact.recorded_at < endpoint.created_at):
                continue
            body = envelope(event, fact, installation.id)
            rows.append({"endpoint_id": endpoint.id, "installation_id": installation.id, "fact_id": fact.id,
                         "event_id": body["id"], "event_type": event.name, "object_key": event.about(fact.payload),
                         "body": body, "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now,
                         "lease_until": None, "created_at": now})
    return rows


def fan_out(factory: sessionmaker[Session], *, clock: Callable[[], datetime] = utcnow, batch: int = 500,
            skip_when_idle: bool = True) -> int:
    """Turn every committed fact not yet read into deliveries; how many facts were read.

    With no active endpoint anywhere there is nothing to read for (a fact recorded before an endpoint existed
    is never sent): the cursor stays, or with `skip_when_idle` jumps to the barrier, so that the first
    endpoint does not wait for years of facts to be read. The runner asks for the jump now and then only:
    the barrier locks the facts table for a moment (kit.outbox)."""
    with unit_of_work(factory) as session:
        if session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.status == EndpointStatus.ACTIVE)
                          .limit(1)) is None:
            if skip_when_idle:
                outbox.sync(session, CONSUMER, outbox.committed_barrier(session))
            return 0

    def handle(session: Session, facts: list[Fact]) -> None:
        rows = deliveries_for(session, facts, clock())
        if rows:
            session.execute(insert(WebhookDelivery), rows)

    return outbox.consume(factory, CONSUMER, handle, batch=batch)
