"""What every HTML form handler needs: a CSRF-checked form, safe redirects, money input, field messages.

Messages produced here are English msgids marked with `N_`; templates translate them with `_()`,
because the page's language is only known while rendering.
"""

import hmac
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from daodian.kit.errors import Forbidden
from daodian.kit.html.rendering import csrf_secret, csrf_token
from daodian.kit.money import MAX_FEN


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later, in the template."""
    return message


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = N_("This form has expired or was sent from another site; reload the page and try again.")


async def checked_form(request: Request) -> FormData:
    """The posted form, after checking its CSRF token (form field, or the X-CSRF-Token header for htmx)."""
    if not same_origin(request):
        raise CsrfFailed()
    form = await request.form()
    submitted = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    if not csrf_secret(request) or not isinstance(submitted, str) \
            or not hmac.compare_digest(submitted.encode(), csrf_token(request).encode()):
        raise CsrfFailed()
    return form


def same_origin(request: Request) -> bool:
    """Browsers say where a form was posted from (Origin; Sec-Fetch-Site in newer ones): a post from another
    site is refused before its token is even read. Clients that send neither (curl, old browsers) rely on
    the token alone."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


CheckedForm = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str, max_length: int = 4000) -> str:
    """A text field, stripped; file uploads and absurdly long values never reach the services."""
    value = form.get(name, "")
    return value.strip()[:max_length] if isinstance(value, str) else ""


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: '/x' yes; '//evil.example', '/\\evil', 'https://…' fall back to the default.

    Browsers drop tabs and newlines inside URLs ('/\t/evil' becomes '//evil'), so no control characters.
    """
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value and value.isprintable():
        return value
    return default


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return see_other(f"/login?next={quote(target, safe='/')}")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


_YUAN = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


def parse_yuan(raw: str) -> int:
    """'12.3' -> 1230 fen. Accepts '¥' and thousands separators people type; never goes through float."""
    cleaned = raw.strip().replace("¥", "").replace("￥", "").replace(",", "").replace("，", "").strip()
    if not _YUAN.match(cleaned):
        raise ValueError(N_("Enter a price in yuan, e.g. 99 or 99.50."))
    try:
        fen = int(Decimal(cleaned) * 100)
    except InvalidOperation as exc:
        raise ValueError(N_("Enter a price in yuan, e.g. 99 or 99.50.")) from exc
    if fen > MAX_FEN:
        raise ValueError(N_("This price is too high."))
    return fen


_PROBLEMS = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("This is too long."),
    "string_pattern_mismatch": N_("This is not in the expected format."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "greater_than_equal": N_("This number is out of range."),
    "less_than_equal": N_("This number is out of range."),
    "enum": N_("Pick one of the offered choices."),
    "literal_error": N_("Pick one of the offered choices."),
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's problems by top-level field, as msgids where we know the kind, else pydantic's own words."""
    errors: dict[str, str] = {}
    for problem in exc.errors():
        field = str(problem["loc"][0]) if problem.get("loc") else "_form"
        message = _PROBLEMS.get(problem.get("type", ""), str(problem.get("msg", "")).removeprefix("Value error, "))
        errors.setdefault(field, message)
    return errors
