"""The apps' pages: the developer guide (/developers), the developer console (register, edit, rotate the
secret, disable), a merchant owner's installs and uninstalls, a consumer's authorised apps.

A client secret appears once, on the page answering the POST that made it; only its hash is kept.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from daodian.accounts.authz import Action, Principal
from daodian.accounts.dependencies import PagePrincipal
from daodian.apps import service
from daodian.apps.errors import InvalidAppSettings
from daodian.apps.models import App
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.scopes import SCOPES
from daodian.kit.html.forms import CheckedForm, login_redirect, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants

router = APIRouter()


def _lines(form: FormData, name: str) -> list[str]:
    return [line.strip() for line in text(form, name, 6000).splitlines() if line.strip()]


def _settings_of(form: FormData) -> dict:
    return {"name": text(form, "name", 200), "description": text(form, "description", 2000),
            "redirect_uris": _lines(form, "redirect_uris"), "web_origins": _lines(form, "web_origins"),
            "scopes": [s for s in form.getlist("scopes") if isinstance(s, str)]}


def _person(principal: Principal) -> bool:
    return principal.is_authenticated and not principal.is_app


@router.get("/developers", response_class=HTMLResponse)
def guide(request: Request, principal: PagePrincipal) -> Response:
    """How to build on daodian: register, install, get a token, call the API, receive webhooks."""
    base = str(request.base_url).rstrip("/")
    return render(request, "developers/guide.html", {"principal": principal, "scopes": SCOPES, "base": base})


@router.get("/developers/apps", response_class=HTMLResponse)
def console(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not _person(principal):
        return login_redirect(request)
    return _console(request, session, principal)


def _console(request: Request, session, principal: Principal, *, form: dict | None = None, error: str | None = None,
             status: int = 200) -> HTMLResponse:
    return render(request, "developers/apps.html", {
        "principal": principal, "apps": service.my_apps(session, principal), "scopes": SCOPES,
        "form": form or {"name": "", "description": "", "redirect_uris": [], "web_origins": [], "scopes": []},
        "error": error}, status=status)


@router.post("/developers/apps", response_class=HTMLResponse)
def register(request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    settings = _settings_of(form)
    try:
        app, secret = service.register_app(session, principal, **settings)
    except InvalidAppSettings as exc:
        return _console(request, session, principal, form=settings, error=exc.message, status=422)
    return _secret_page(request, principal, app, secret)


def _secret_page(request: Request, principal: Principal, app: App, secret: str) -> HTMLResponse:
    response = render(request, "developers/secret.html", {"principal": principal, "app": app, "secret": secret})
    response.headers["Cache-Control"] = "no-store"  # the one time it is shown
    return response


def _app_page(request: Request, principal: Principal, app: App, *, form: dict | None = None,
              error: str | None = None, saved: bool = False, status: int = 200) -> HTMLResponse:
    return render(request, "developers/app.html", {
        "principal": principal, "app": app, "scopes": SCOPES, "error": error, "saved": saved,
        "form": form or {"name": app.name, "description": app.description, "redirect_uris": app.redirect_uris,
                         "web_origins": app.web_origins, "scopes": app.scopes.split()}}, status=status)


@router.get("/developers/apps/{app_id}", response_class=HTMLResponse)
def app_page(app_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
             saved: Annotated[bool, Query()] = False) -> Response:
    if not _person(principal):
        return login_redirect(request)
    return _app_page(request, principal, service.developers_app(session, principal, app_id), saved=saved)


@router.post("/developers/apps/{app_id}", response_class=HTMLResponse)
def update(app_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
           form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    app = service.developers_app(session, principal, app_id)
    settings = _settings_of(form)
    try:
        service.update_app(session, app, **settings)
    except InvalidAppSettings as exc:  # nothing was changed: the settings are checked before any is set
        return _app_page(request, principal, app, form=settings, error=exc.message, status=422)
    return see_other(f"/developers/apps/{app.id}?saved=1")


@router.post("/developers/apps/{app_id}/secret", response_class=HTMLResponse)
def rotate(app_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
           form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    app = service.developers_app(session, principal, app_id)
    return _secret_page(request, principal, app, service.rotate_secret(session, app))


@router.post("/developers/apps/{app_id}/disable")
def disable(app_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
            form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    service.disable_app(session, service.developers_app(session, principal, app_id))
    return see_other(f"/developers/apps/{app_id}")


# A merchant owner's apps -----------------------------------------------------------------------------------

@router.get("/merchant/{merchant_id}/apps", response_class=HTMLResponse)
def merchant_apps(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not _person(principal):
        return login_redirect(request)
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    return render(request, "developers/installations.html", {
        "principal": principal, "merchant": merchant, "scopes": SCOPES,
        "installations": service.installations_of_merchant(session, merchant_id),
        "is_owner": principal.can(Action.STAFF_MANAGE, merchant_id) and not principal.is_operator})


@router.get("/merchant/{merchant_id}/apps/install", response_class=HTMLResponse)
def install_form(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                 client_id: Annotated[str, Query(max_length=64)]) -> Response:
    """The consent page: the app, who made it, and each scope it asks for."""
    if not _person(principal):
        return login_redirect(request)
    service.require_owner(principal, merchant_id)
    merchant = merchants.get_merchant(session, merchant_id)
    app = service.live_app(session, client_id)
    return render(request, "developers/install.html", {
        "principal": principal, "merchant": merchant, "app": app,
        "scopes": [(name, SCOPES[name]) for name in app.scopes.split() if name in SCOPES],
        "installed": service.live_installation(session, app.id, merchant_id) is not None})


@router.post("/merchant/{merchant_id}/apps/install")
def install(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
            form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    app = service.live_app(session, text(form, "client_id", 64))
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str)]
    service.install(session, principal, app, merchant_id, scopes)
    return see_other(f"/merchant/{merchant_id}/apps")


@router.post("/merchant/{merchant_id}/apps/{installation_id}/uninstall")
def uninstall(merchant_id: ObjectId, installation_id: ObjectId, request: Request, session: DbSession,
              principal: PagePrincipal, form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    service.uninstall(session, principal, installation_id, merchant_id)
    return see_other(f"/merchant/{merchant_id}/apps")


# A consumer's authorised apps ------------------------------------------------------------------------------

@router.get("/me/apps", response_class=HTMLResponse)
def my_grants(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not _person(principal):
        return login_redirect(request)
    return render(request, "developers/my_apps.html", {
        "principal": principal, "grants": service.consumer_grants(session, principal.user_id), "scopes": SCOPES})


@router.post("/me/apps/{grant_id}/revoke")
def revoke_grant(grant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                 form: CheckedForm) -> Response:
    if not _person(principal):
        return login_redirect(request)
    service.revoke_consumer_grant(session, principal, grant_id)
    return see_other("/me/apps")
