"""Managing an app's webhook endpoints: only the app's developer (or an operator) may, and every lookup goes
through the app (an endpoint or delivery of another app answers like a missing one). Flushes, never commits."""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal, require_login
from daodian.apps.models import App
from daodian.kit.clock import utcnow
from daodian.webhooks.catalogue import BY_NAME
from daodian.webhooks.claims import DISABLED_BY_DEVELOPER
from daodian.webhooks.errors import (
    AppNotFound,
    DeliveryNotFound,
    EndpointDisabled,
    EndpointNotFound,
    InvalidEndpointUrl,
    UnknownEvent,
)
from daodian.webhooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint
from daodian.webhooks.schemas import EndpointIn, EndpointPatch
from daodian.webhooks.signing import new_secret

ROTATION_OVERLAP = timedelta(hours=24)  # the old secret still signs (a second v1) for this long


def developer_app(session: Session, principal: Principal, app_id: int) -> App:
    require_login(principal)
    app = session.get(App, app_id)
    # An app's own token never manages webhooks: where events go is its developer's decision (or, for
    # support, an operator's).
    if app is None or principal.is_app or not (app.developer_id == principal.user_id or principal.is_operator):
        raise AppNotFound()
    return app


def endpoint_of(session: Session, app: App, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.app_id != app.id:
        raise EndpointNotFound()
    return endpoint


def delivery_of(session: Session, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise DeliveryNotFound()
    return delivery


def endpoints(session: Session, app: App) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.app_id == app.id)
                                .order_by(WebhookEndpoint.id)))


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise InvalidEndpointUrl(details={"url": url})
    return url


def _checked_events(events: list[str]) -> list[str]:
    unknown = sorted({e for e in events if e not in BY_NAME})
    if unknown:
        raise UnknownEvent(details={"unknown": unknown})
    return sorted(set(events))


def create_endpoint(session: Session, principal: Principal, app: App, body: EndpointIn) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(app_id=app.id, url=_checked_url(body.url), events=_checked_events(body.events),
                               description=body.description.strip(), secret=new_secret(),
                               status=EndpointStatus.ACTIVE, consecutive_failures=0, created_by=principal.user_id,
                               created_at=utcnow())
    session.add(endpoint)
    session.flush()
    return endpoint


def change_endpoint(session: Session, endpoint: WebhookEndpoint, body: EndpointPatch) -> WebhookEndpoint:
    if body.url is not None:
        endpoint.url = _checked_url(body.url)
    if body.events is not None:
        endpoint.events = _checked_events(body.events)
    if body.description is not None:
        endpoint.description = body.description.strip()
    if body.status == EndpointStatus.ACTIVE:
        enable(endpoint)
    elif body.status == EndpointStatus.DISABLED and endpoint.status == EndpointStatus.ACTIVE:
        endpoint.status, endpoint.disabled_at, endpoint.disabled_reason = (EndpointStatus.DISABLED, utcnow(),
                                                                           DISABLED_BY_DEVELOPER)
    session.flush()
    return endpoint


def enable(endpoint: WebhookEndpoint) -> None:
    """Active again with a clean failure streak; its pending deliveries go out (in order) from now on."""
    endpoint.status, endpoint.disabled_at, endpoint.disabled_reason = EndpointStatus.ACTIVE, None, None
    endpoint.failing_since, endpoint.consecutive_failures = None, 0


def rotate_secret(session: Session, endpoint: WebhookEndpoint, now: datetime | None = None) -> WebhookEndpoint:
    """A new secret signs from now on; the old one keeps signing beside it for ROTATION_OVERLAP."""
    now = now or utcnow()
    endpoint.previous_secret, endpoint.previous_secret_expires_at = endpoint.secret, now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    session.flush()
    return endpoint


def redeliver(session: Session, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue the delivery again at once (same event id, same body); the runner sends it, not this request.
    A delivery that gave up is pending again with a fresh schedule; a successful one is sent once more."""
    if endpoint.status != EndpointStatus.ACTIVE:
        raise EndpointDisabled(details={"endpoint_id": endpoint.id})
    now = utcnow()
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id)
                    .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, lease_until=None)
                    .execution_options(synchronize_session=False))
    session.refresh(delivery)
    return delivery
