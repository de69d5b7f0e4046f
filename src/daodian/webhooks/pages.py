"""The developer console's webhook pages: an app's endpoints (subscribe a URL to events), and each endpoint's
delivery log with status, response code and latency, manual redelivery, enabling a disabled endpoint (the
page says why it was disabled) and rotating its secret. Same services and checks as the JSON routes."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from daodian.accounts.authz import Principal
from daodian.accounts.dependencies import PagePrincipal
from daodian.apps.models import App
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, field_errors, login_redirect, see_other, text
from daodian.kit.html.rendering import render
from daodian.webhooks import service
from daodian.webhooks.catalogue import EVENTS
from daodian.webhooks.models import EndpointStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from daodian.webhooks.schemas import EndpointIn, EndpointPatch

router = APIRouter()
LOG_ROWS = 50


def _person(principal: Principal) -> bool:
    return principal.is_authenticated and not principal.is_app


def _endpoints_page(request: Request, session, principal: Principal, app: App, *, form: dict | None = None,
                    errors: dict | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "developers/webhooks/endpoints.html", {
        "principal": principal, "app": app, "endpoints": service.endpoints(session, app), "events": EVENTS,
        "form": form or {"url": "", "description": "", "events": []}, "errors": errors or {}}, status=status)


def _secret_page(request: Request, principal: Principal, app: App, endpoint: WebhookEndpoint) -> HTMLResponse:
    response = render(request, "developers/webhooks/secret.html",
                      {"principal": principal, "app": app, "endpoint": endpoint})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/developers/apps/{app_id}/webhooks", response_class=HTMLResponse)
def endpoints_page(app_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not _person(principal):
        return login_redirect(request)
    return _endpoints_page(request, session, principal, service.developer_app(session, principal, app_id))


@router.post("/developers/apps/{app_id}/webhooks", response_class=HTMLResponse)
def create_endpoint(app_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                    form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    app = service.developer_app(session, principal, app_id)
    values = {"url": text(form, "url", 500), "description": text(form, "description", 200),
              "events": [e for e in form.getlist("events") if isinstance(e, str)]}
    try:
        endpoint = service.create_endpoint(session, principal, app, EndpointIn(**values))
    except ValidationError as exc:
        return _endpoints_page(request, session, principal, app, form=values, errors=field_errors(exc), status=422)
    except DomainError as exc:
        return _endpoints_page(request, session, principal, app, form=values, errors={"_form": exc.code},
                               status=exc.status)
    return _secret_page(request, principal, app, endpoint)


@router.get("/developers/apps/{app_id}/webhooks/{endpoint_id}", response_class=HTMLResponse)
def endpoint_page(app_id: ObjectId, endpoint_id: ObjectId, request: Request, session: DbSession,
                  principal: PagePrincipal) -> Response:
    if not _person(principal):
        return login_redirect(request)
    app = service.developer_app(session, principal, app_id)
    endpoint = service.endpoint_of(session, app, endpoint_id)
    log = session.execute(
        select(WebhookAttempt, WebhookDelivery).join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(WebhookAttempt.endpoint_id == endpoint.id).order_by(WebhookAttempt.id.desc()).limit(LOG_ROWS)).all()
    pending = session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                            WebhookDelivery.status == "pending")
                              .order_by(WebhookDelivery.id).limit(LOG_ROWS)).all()
    last_error = next((attempt.error for attempt, _ in log if not attempt.succeeded), None)
    return render(request, "developers/webhooks/endpoint.html", {
        "principal": principal, "app": app, "endpoint": endpoint, "log": log, "pending": pending,
        "last_error": last_error, "notice": request.query_params.get("notice")})


@router.post("/developers/apps/{app_id}/webhooks/{endpoint_id}/status")
def change_status(app_id: ObjectId, endpoint_id: ObjectId, request: Request, session: DbSession,
                  principal: PagePrincipal, form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    app = service.developer_app(session, principal, app_id)
    wanted = EndpointStatus.ACTIVE if text(form, "status", 16) == EndpointStatus.ACTIVE else EndpointStatus.DISABLED
    service.change_endpoint(session, service.endpoint_of(session, app, endpoint_id), EndpointPatch(status=wanted))
    return see_other(f"/developers/apps/{app.id}/webhooks/{endpoint_id}?notice={wanted}")


@router.post("/developers/apps/{app_id}/webhooks/{endpoint_id}/secret", response_class=HTMLResponse)
def rotate_secret(app_id: ObjectId, endpoint_id: ObjectId, request: Request, session: DbSession,
                  principal: PagePrincipal, form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    app = service.developer_app(session, principal, app_id)
    return _secret_page(request, principal, app,
                        service.rotate_secret(session, service.endpoint_of(session, app, endpoint_id)))


@router.post("/developers/apps/{app_id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
def redeliver(app_id: ObjectId, endpoint_id: ObjectId, delivery_id: ObjectId, request: Request, session: DbSession,
              principal: PagePrincipal, form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    app = service.developer_app(session, principal, app_id)
    endpoint = service.endpoint_of(session, app, endpoint_id)
    service.redeliver(session, endpoint, service.delivery_of(session, endpoint, delivery_id))
    return see_other(f"/developers/apps/{app.id}/webhooks/{endpoint.id}?notice=redelivery")
