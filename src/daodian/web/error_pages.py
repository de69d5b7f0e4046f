"""The HTML error page (404, 403, 400, 500 ...) inside the site shell, in the visitor's language, with the header
of who is really logged in.

The error handlers (kit.api.error_handlers) run outside any page's dependencies, so nobody has looked up
the session cookie yet: it is looked up here, the same way a page does (accounts.dependencies). A failure
of that lookup (the database is what failed) shows the page logged out rather than a second error.
"""

import logging

from fastapi import Request
from fastapi.responses import HTMLResponse

from daodian.accounts.authz import ANONYMOUS, Principal
from daodian.accounts.dependencies import SESSION_COOKIE
from daodian.accounts.tokens.lookup import principal_for
from daodian.kit.html.rendering import render

log = logging.getLogger("daodian")


async def _visitor(request: Request) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return ANONYMOUS
    try:
        return await principal_for(request.app.state.session_factory, token[:128], "cookie") or ANONYMOUS
    except Exception:  # the page that explains an error must not raise one of its own
        log.warning("error page: session lookup failed", exc_info=True)
        return ANONYMOUS


async def render_error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    principal = await _visitor(request)
    return render(request, "error.html", {"status": status, "code": code, "message": message,
                                          "principal": principal}, status=status)
