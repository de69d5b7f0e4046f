"""The OAuth 2.0 endpoints over HTTP: Starlette's request in, Authlib's (status, body, headers) out.

/oauth/token, /oauth/revoke and /oauth/introspect answer as RFC 6749, 7009 and 7662 say (their errors are
`{"error": "<code>", "error_description": ...}`, what OAuth clients expect, not the API's envelope).
/oauth/authorize shows a logged-in consumer the consent page and sends the browser back to the app.
"""

import json
from typing import Annotated
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from daodian.accounts.authz import Principal
from daodian.accounts.dependencies import PagePrincipal
from daodian.apps.oauth_server import PlainRequest, Server
from daodian.kit.api.http import DbSession
from daodian.kit.api.scopes import SCOPES
from daodian.kit.html.forms import CheckedForm, login_redirect
from daodian.kit.html.rendering import render

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method")


async def _posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted_form)]


def _pairs(form: FormData) -> list[tuple[str, str]]:
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


def oauth_request(request: Request, form: list[tuple[str, str]] | None = None,
                  query: list[tuple[str, str]] | None = None) -> PlainRequest:
    return PlainRequest(request.method, str(request.url), request.headers,
                        list(request.query_params.multi_items()) if query is None else query, form or [])


def _json(result: tuple[int, object, list]) -> Response:
    status, body, headers = result
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return Response(content, status_code=status, media_type="application/json", headers={**dict(headers), **NO_STORE})


@router.post("/oauth/token")
def token(request: Request, session: DbSession, form: PostedForm) -> Response:
    """Issue a token: client_credentials (+ merchant_id), authorization_code (+ code_verifier), refresh_token."""
    return _json(Server(session).create_token_response(oauth_request(request, _pairs(form), [])))


@router.post("/oauth/revoke")
def revoke(request: Request, session: DbSession, form: PostedForm) -> Response:
    """RFC 7009: the token stops working at once (an unknown token is answered 200 too, as the RFC says)."""
    return _json(Server(session).create_endpoint_response("revocation", oauth_request(request, _pairs(form), [])))


@router.post("/oauth/introspect")
def introspect(request: Request, session: DbSession, form: PostedForm) -> Response:
    """RFC 7662: whether one of the calling app's tokens is active, its scopes and whom it acts for."""
    return _json(Server(session).create_endpoint_response("introspection", oauth_request(request, _pairs(form), [])))


def _error_page(request: Request, error: OAuth2Error) -> Response:
    """A request that cannot be sent back to the app (unknown app, unregistered redirect URI) ends here."""
    redirect = getattr(error, "redirect_uri", None)
    if redirect:
        params = {"error": error.error, "error_description": error.description or ""}
        if getattr(error, "state", None):
            params["state"] = error.state
        return RedirectResponse(f"{redirect}{'&' if '?' in redirect else '?'}{urlencode(params)}", status_code=302)
    return render(request, "developers/authorize_error.html",
                  {"error": error.error, "description": error.description or ""}, status=400)


def _person(principal: Principal) -> bool:
    return principal.is_authenticated and not principal.is_app


@router.get("/oauth/authorize", response_class=HTMLResponse)
def authorize_form(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """The consent page: which app asks, for which of the consumer's data."""
    if not _person(principal):
        return login_redirect(request)
    server = Server(session)
    try:
        grant = server.get_consent_grant(oauth_request(request), end_user=principal)
    except OAuth2Error as error:
        return _error_page(request, error)
    app = grant.client.app
    scope = grant.client.get_allowed_scope(grant.request.payload.scope)
    params = {name: request.query_params.get(name, "") for name in AUTHORIZE_PARAMS}
    return render(request, "developers/authorize.html", {
        "app": app, "scopes": [(name, SCOPES[name]) for name in scope.split()], "params": params})


@router.post("/oauth/authorize")
def authorize(request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    """The consumer's answer: a code for the app (allowed) or `access_denied`, sent to its redirect URI."""
    if not _person(principal):
        return login_redirect(request)
    query = [(name, form[name]) for name in AUTHORIZE_PARAMS if isinstance(form.get(name), str) and form[name]]
    oauth = PlainRequest("GET", str(request.url), request.headers, query, [])
    server = Server(session)
    user = _User(principal.user_id) if form.get("decision") == "allow" else None
    try:
        grant = server.get_consent_grant(oauth, end_user=user)  # validated again: the form came from a browser
    except OAuth2Error as error:
        return _error_page(request, error)
    status, _body, headers = server.create_authorization_response(oauth, grant_user=user, grant=grant)
    return RedirectResponse(dict(headers)["Location"], status_code=302 if status == 302 else 303)


class _User:
    """The consenting consumer as Authlib hands it to the grant (only the id is read)."""

    def __init__(self, user_id: int):
        self.id = user_id

    def get_user_id(self) -> int:
        return self.id
