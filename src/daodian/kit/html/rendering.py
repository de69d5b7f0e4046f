"""The Jinja environment, per-request language, CSRF tokens and the HTML error page."""

import hashlib
import hmac
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


def request_locale(request: Request) -> str:
    return i18n.pick_locale(request.cookies.get(LANG_COOKIE), get_settings().default_locale)


def localized(obj: Any, field: str = "name") -> str:
    """The English name when the page is in English and one exists, else the Chinese one."""
    if i18n.current_locale.get() == "en":
        english = getattr(obj, f"{field}_en", None)
        if english:
            return english
    return getattr(obj, f"{field}_zh", None) or getattr(obj, field, "")


env.globals["L"] = localized
# For msgids held in variables (form errors marked with N_ in Python). Unlike `_`, whose newstyle result is
# Markup, this returns a plain string, so anything that is not a known msgid is still escaped.
env.globals["tr"] = i18n.gettext


def csrf_token(request: Request) -> str:
    """Tied to the session cookie, so a form posted from another site cannot carry a valid one."""
    session_token = request.cookies.get("daodian_session", "")
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"csrf:{session_token}".encode(), hashlib.sha256).hexdigest()


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    locale = request_locale(request)
    token = i18n.current_locale.set(locale)
    try:
        html = env.get_template(template).render(
            request=request, locale=locale, csrf_token=csrf_token(request), **(context or {})
        )
    finally:
        i18n.current_locale.reset(token)
    return HTMLResponse(html, status_code=status)


def render_error(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "code": code, "message": message}, status=status)
