"""The Jinja environment, per-request language, CSRF tokens and the HTML error page."""

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from daodian.kit import i18n
from daodian.kit.money import format_yuan
from daodian.kit.settings import get_settings

# The templates and static assets stay beside the web layer that serves them (daodian/web/).
WEB_DIR = Path(__file__).resolve().parents[2] / "web"
LANG_COOKIE = "daodian_lang"

env = Environment(
    loader=FileSystemLoader(WEB_DIR / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
env.filters["yuan"] = format_yuan


def nickname(display_name: str | None) -> str:
    """How a consumer appears to other people (reviews): the first character and two stars, as on receipts,
    never the full real name an account was opened with."""
    name = (display_name or "").strip()
    return f"{name[0]}**" if name else "***"


env.filters["nickname"] = nickname


def request_locale(request: Request) -> str:
    return i18n.pick_locale(request.cookies.get(LANG_COOKIE), get_settings().default_locale)


def localized(obj: Any, field: str = "name") -> str:
    """The English name when the page is in English and one exists, else the Chinese one. `obj` is a model
    or a JSON-ready dict (the views some pages render without building models)."""
    get = obj.get if isinstance(obj, Mapping) else lambda name: getattr(obj, name, None)
    if i18n.current_locale.get() == "en":
        english = get(f"{field}_en")
        if english:
            return english
    return get(f"{field}_zh") or get(field) or ""


env.globals["L"] = localized
# For msgids held in variables (form errors marked with N_ in Python). Unlike `_`, whose newstyle result is
# Markup, this returns a plain string, so anything that is not a known msgid is still escaped.
env.globals["tr"] = i18n.gettext


SESSION_COOKIE = "daodian_session"
# A visitor who is not logged in still posts forms (the login form itself): their tokens are tied to this
# random per-browser cookie, set with the first page, so one visitor's token is worthless in another's
# browser (login CSRF: an attacker logging a victim into the attacker's account).
PRE_SESSION_COOKIE = "daodian_csrf"


def csrf_secret(request: Request) -> str:
    """What this browser's tokens are tied to: its session, else its pre-session cookie ("" if neither)."""
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return f"session:{session_token}"
    pre = request.cookies.get(PRE_SESSION_COOKIE) or getattr(request.state, "new_pre_session", None)
    return f"pre:{pre}" if pre else ""


def csrf_token(request: Request) -> str:
    """Tied to this browser's session or pre-session cookie, so a form posted from another site, or with a
    token taken from another browser, cannot carry a valid one."""
    if not csrf_secret(request):  # the first page this browser sees: give it its pre-session secret
        request.state.new_pre_session = secrets.token_urlsafe(24)
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"csrf:{csrf_secret(request)}".encode(), hashlib.sha256).hexdigest()


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    locale = request_locale(request)
    if not hasattr(request.state, "csp_nonce"):  # inline scripts carry it (kit.html.security_headers)
        request.state.csp_nonce = secrets.token_urlsafe(16)
    token = i18n.current_locale.set(locale)
    try:
        html = env.get_template(template).render(
            request=request, locale=locale, csrf_token=csrf_token(request), **(context or {})
        )
    finally:
        i18n.current_locale.reset(token)
    response = HTMLResponse(html, status_code=status)
    pre = getattr(request.state, "new_pre_session", None)
    if pre and not request.cookies.get(PRE_SESSION_COOKIE):
        response.set_cookie(PRE_SESSION_COOKIE, pre, path="/", httponly=True, samesite="lax",
                            secure=get_settings().cookie_secure)
    return response


def render_error(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "code": code, "message": message}, status=status)
