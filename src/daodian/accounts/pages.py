"""Login, logout and the language switch for the HTML pages (cookie sessions, CSRF-checked forms)."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from daodian.accounts import known_devices, service
from daodian.accounts.dependencies import SESSION_COOKIE, PagePrincipal
from daodian.accounts.errors import InvalidCredentials, LoginThrottled
from daodian.accounts.schemas import LoginIn
from daodian.kit import i18n
from daodian.kit.api.http import DbSession
from daodian.kit.html.forms import N_, CheckedForm, safe_next, see_other, text
from daodian.kit.html.rendering import LANG_COOKIE, render
from daodian.kit.settings import Settings

router = APIRouter()

LOGIN_MESSAGES = {
    InvalidCredentials.code: N_("Phone number or password is wrong."),
    LoginThrottled.code: N_("Too many wrong passwords; wait a moment and try again."),
}
NextPath = Annotated[str | None, Query(max_length=2000)]


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _login_page(request: Request, *, phone: str = "", next_path: str = "", error: str | None = None,
                status: int = 200) -> HTMLResponse:
    return render(request, "login.html", {"phone": phone, "next": next_path, "error": error}, status=status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: PagePrincipal, next: NextPath = None) -> Response:
    if principal.is_authenticated:
        return see_other(safe_next(next, "/admin" if principal.is_operator else "/merchant" if principal.roles else "/"))
    return _login_page(request, next_path=safe_next(next, ""))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession, form: CheckedForm) -> Response:
    phone, next_path = text(form, "phone", 64), safe_next(text(form, "next", 2000), "")
    try:
        credentials = LoginIn(phone=phone, password=str(form.get("password") or "")[:128])
    except ValidationError:
        return _login_page(request, phone=phone, next_path=next_path, status=422,
                           error=N_("Enter a mainland mobile number (11 digits) and your password."))
    settings = _settings(request)
    try:
        user = service.authenticate(session, phone=credentials.phone, password=credentials.password,
                                    address=known_devices.client_address(request),
                                    device_cookie=request.cookies.get(known_devices.DEVICE_COOKIE),
                                    secret=settings.secret_key)
    except (InvalidCredentials, LoginThrottled) as exc:
        # The failed attempt is counted and committed with this response: that is what throttles guessing.
        page = _login_page(request, phone=phone, next_path=next_path, error=LOGIN_MESSAGES[exc.code],
                           status=exc.status)
        if isinstance(exc, LoginThrottled):
            page.headers.update(exc.headers)
        return page
    token, _ = service.open_session(session, user, kind="cookie", days=settings.session_days)
    principal = service.principal_for(session, user)
    response = see_other(next_path or ("/admin" if principal.is_operator else "/merchant" if principal.roles else "/"))
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_days * 86400, path="/",
                        httponly=True, samesite="lax", secure=settings.cookie_secure)
    known_devices.remember(request, response, user.id, settings)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, form: CheckedForm) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.revoke(session, token[:128], kind="cookie")
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=_settings(request).cookie_secure)
    return response


@router.post("/lang")
def switch_language(request: Request, form: CheckedForm) -> Response:
    """Remember the chosen language in a cookie and go back to where the switch was pressed."""
    back = text(form, "next", 2000) or urlsplit(request.headers.get("referer", "")[:2000]).path
    response = see_other(safe_next(back, "/"))
    lang = text(form, "lang", 8)
    if lang in i18n.LOCALES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax",
                            secure=_settings(request).cookie_secure)
    return response
