"""Turn every failure into the error envelope (API) or an error page (HTML); never a stack trace."""

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from daodian.kit.api import routing
from daodian.kit.errors import DomainError, error_body

log = logging.getLogger("daodian")

# Sync, or async when the page needs a lookup of its own (web.error_pages: who is logged in).
HtmlRenderer = Callable[[Request, int, str, str], Response | Awaitable[Response]]

_HTTP_CODES = {
    400: ("bad_request", "The request is malformed."),
    401: ("not_authenticated", "Log in first."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
}


def field_problems(exc: RequestValidationError | ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without the echoed input or exception objects (not JSON, may be huge or secret)."""
    return [
        {"loc": [str(part) for part in e.get("loc", ())], "type": e.get("type", ""), "msg": e.get("msg", "")}
        for e in exc.errors()
    ]


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method this path is served by (kit.api.routing.allowed_methods: a route whose typed path
    parameter refuses the path does not count); Starlette's own 405 names only the first route's."""
    return ", ".join(routing.allowed_methods(request.app.router.routes, request.scope, _METHODS))


CONFLICT = (409, "conflict", "This conflicts with data that changed meanwhile; reload and retry.")
BUSY = (503, "database_busy", "The database is busy; retry in a moment.")
BUSY_HEADERS = {"Retry-After": "1"}
UNEXPECTED = (500, "internal_error", "Something went wrong on our side; it has been logged.")


def install_error_handlers(app: FastAPI, render_html: HtmlRenderer) -> None:
    async def respond(request: Request, status: int, code: str, message: str, details: Any = None,
                      headers: dict | None = None) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)
        page = render_html(request, status, code, message)
        if inspect.isawaitable(page):
            page = await page
        if headers:
            page.headers.update(headers)
        return page

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        # A domain error may carry headers (a rate limit's Retry-After).
        return await respond(request, exc.status, exc.code, exc.message, exc.details,
                             headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = field_problems(exc)
        summary = "; ".join(f"{'.'.join(p['loc'][1:]) or p['loc'][0] if p['loc'] else 'body'}: {p['msg']}"
                            for p in problems[:5])
        return await respond(request, 422, "validation_error", f"Invalid input — {summary}", problems)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
        if isinstance(exc.detail, str) and exc.status_code not in (404, 405):
            message = exc.detail
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return await respond(request, exc.status_code, code, message, headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        # A race lost to a unique or foreign-key constraint: the state changed under the request.
        log.info("integrity conflict on %s %s: %s", request.method, request.url.path, exc.orig)
        return await respond(request, *CONFLICT)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> Response:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return await respond(request, *BUSY, headers=BUSY_HEADERS)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await respond(request, *UNEXPECTED)
