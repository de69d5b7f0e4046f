"""Webhook routes: the public event catalogue, and each app's endpoints, deliveries, attempt log and manual
redelivery for the app's developer. Closed to apps' own tokens: a person manages where events go."""

from fastapi import APIRouter, status
from sqlalchemy import select

from daodian.accounts.dependencies import LoggedIn
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.pagination import Page, Paging
from daodian.kit.api.scopes import declare
from daodian.kit.i18n import current_locale
from daodian.webhooks import service
from daodian.webhooks.catalogue import EVENTS, envelope_schema
from daodian.webhooks.models import WebhookAttempt, WebhookDelivery
from daodian.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    EndpointIn,
    EndpointPatch,
    EndpointRead,
    EndpointWithSecret,
    EventTypeRead,
)

router = declare(APIRouter(tags=["webhooks"]), read=None)


def _with_secret(endpoint) -> EndpointWithSecret:
    return EndpointWithSecret.model_validate(endpoint, from_attributes=True)


@router.get("/webhooks/events", response_model=list[EventTypeRead], openapi_extra=access("public"))
def event_catalogue() -> list[EventTypeRead]:
    """Every event an endpoint may subscribe to, the scope it needs, and the JSON Schema of its body."""
    chinese = current_locale.get() == "zh_CN"
    return [EventTypeRead(name=e.name, scope=e.scope, summary=e.summary_zh if chinese else e.summary_en,
                          schema=envelope_schema(e)) for e in EVENTS]


@router.get("/apps/{app_id}/webhooks", response_model=list[EndpointRead], openapi_extra=access("self"))
def list_endpoints(app_id: ObjectId, session: DbSession, principal: LoggedIn) -> list[EndpointRead]:
    """Your app's webhook endpoints (404 `app_not_found` for an app that is not yours)."""
    app = service.developer_app(session, principal, app_id)
    return [EndpointRead.model_validate(e, from_attributes=True) for e in service.endpoints(session, app)]


@router.post("/apps/{app_id}/webhooks", status_code=status.HTTP_201_CREATED, response_model=EndpointWithSecret,
             openapi_extra=access("self"))
def create_endpoint(app_id: ObjectId, body: EndpointIn, session: DbSession, principal: LoggedIn) -> EndpointWithSecret:
    """Subscribe a URL to events of every merchant that installs the app. The response carries the signing
    secret. Errors: `unknown_event`, `invalid_endpoint_url` (422)."""
    app = service.developer_app(session, principal, app_id)
    return _with_secret(service.create_endpoint(session, principal, app, body))


@router.get("/apps/{app_id}/webhooks/{endpoint_id}", response_model=EndpointRead,
            openapi_extra=access("self"))
def get_endpoint(app_id: ObjectId, endpoint_id: ObjectId, session: DbSession, principal: LoggedIn) -> EndpointRead:
    """One endpoint, with why it is disabled if it is."""
    app = service.developer_app(session, principal, app_id)
    return EndpointRead.model_validate(service.endpoint_of(session, app, endpoint_id), from_attributes=True)


@router.patch("/apps/{app_id}/webhooks/{endpoint_id}", response_model=EndpointRead,
              openapi_extra=access("self"))
def change_endpoint(app_id: ObjectId, endpoint_id: ObjectId, body: EndpointPatch, session: DbSession,
                    principal: LoggedIn) -> EndpointRead:
    """Change the URL, the events or the description; `status: active` enables a disabled endpoint again."""
    app = service.developer_app(session, principal, app_id)
    endpoint = service.change_endpoint(session, service.endpoint_of(session, app, endpoint_id), body)
    return EndpointRead.model_validate(endpoint, from_attributes=True)


@router.post("/apps/{app_id}/webhooks/{endpoint_id}/rotate-secret", response_model=EndpointWithSecret,
             openapi_extra=access("self"))
def rotate_secret(app_id: ObjectId, endpoint_id: ObjectId, session: DbSession,
                  principal: LoggedIn) -> EndpointWithSecret:
    """A new signing secret; for 24 hours deliveries carry a signature with the old one too."""
    app = service.developer_app(session, principal, app_id)
    return _with_secret(service.rotate_secret(session, service.endpoint_of(session, app, endpoint_id)))


@router.get("/apps/{app_id}/webhooks/{endpoint_id}/deliveries", response_model=Page[DeliveryRead],
            openapi_extra=access("self"))
def list_deliveries(app_id: ObjectId, endpoint_id: ObjectId, session: DbSession, principal: LoggedIn,
                    paging: Paging) -> Page[DeliveryRead]:
    """The endpoint's deliveries, newest first: status, attempts, last response code and latency."""
    app = service.developer_app(session, principal, app_id)
    endpoint = service.endpoint_of(session, app, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if paging.after_id is not None:
        query = query.where(WebhookDelivery.id < paging.after_id)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(paging.limit + 1)))
    more, rows = len(rows) > paging.limit, rows[: paging.limit]
    return Page(items=[DeliveryRead.model_validate(d, from_attributes=True) for d in rows],
                next_cursor=str(rows[-1].id) if more and rows else None)


@router.get("/apps/{app_id}/webhooks/{endpoint_id}/attempts", response_model=Page[AttemptRead],
            openapi_extra=access("self"))
def list_attempts(app_id: ObjectId, endpoint_id: ObjectId, session: DbSession, principal: LoggedIn,
                  paging: Paging) -> Page[AttemptRead]:
    """The endpoint's delivery log, newest first: every request, its response code (null: no answer) and latency."""
    app = service.developer_app(session, principal, app_id)
    endpoint = service.endpoint_of(session, app, endpoint_id)
    query = (select(WebhookAttempt, WebhookDelivery.event_id, WebhookDelivery.event_type)
             .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
             .where(WebhookAttempt.endpoint_id == endpoint.id))
    if paging.after_id is not None:
        query = query.where(WebhookAttempt.id < paging.after_id)
    rows = session.execute(query.order_by(WebhookAttempt.id.desc()).limit(paging.limit + 1)).all()
    more, rows = len(rows) > paging.limit, rows[: paging.limit]
    items = [AttemptRead(id=a.id, delivery_id=a.delivery_id, event_id=event_id, event_type=event_type,
                         attempted_at=a.attempted_at, succeeded=a.succeeded, status_code=a.status_code,
                         latency_ms=a.latency_ms, error=a.error) for a, event_id, event_type in rows]
    return Page(items=items, next_cursor=str(rows[-1][0].id) if more and rows else None)


@router.post("/apps/{app_id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
             status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryRead, openapi_extra=access("self"))
def redeliver(app_id: ObjectId, endpoint_id: ObjectId, delivery_id: ObjectId, session: DbSession,
              principal: LoggedIn) -> DeliveryRead:
    """Send a delivery again soon (same event id and body). Errors: `webhook_endpoint_disabled` (409)."""
    app = service.developer_app(session, principal, app_id)
    endpoint = service.endpoint_of(session, app, endpoint_id)
    delivery = service.redeliver(session, endpoint, service.delivery_of(session, endpoint, delivery_id))
    return DeliveryRead.model_validate(delivery, from_attributes=True)
