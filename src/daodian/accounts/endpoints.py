from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from daodian.accounts import known_devices, service
from daodian.accounts.dependencies import LoggedIn, bearer_scheme
from daodian.accounts.errors import InvalidCredentials
from daodian.accounts.schemas import LoginIn, MeRead, RegisterIn, TokenOut
from daodian.kit.api.http import DbSession, access
from daodian.kit.api.scopes import CLOSED, declare
from daodian.kit.errors import ErrorEnvelope
from daodian.kit.settings import get_settings

router = APIRouter(tags=["accounts"])
declare(router, CLOSED)  # closed to apps' tokens: a person's own account (kit.api.scopes)


def _token_out(session, user) -> TokenOut:
    token, expires_at = service.open_session(session, user, kind="bearer", days=get_settings().session_days)
    return TokenOut(access_token=token, expires_at=expires_at, user=service.me(session, user.id))


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=TokenOut,
             openapi_extra=access("public"))
def register(body: RegisterIn, session: DbSession) -> TokenOut:
    """Create a consumer account with a mainland mobile number and a password."""
    user = service.register(session, phone=body.phone, password=body.password, display_name=body.display_name)
    return _token_out(session, user)


THROTTLED = {429: {"model": ErrorEnvelope, "description": "Too many wrong passwords (`too_many_attempts`); wait "
                                                         "Retry-After seconds. Never for a device that logged in "
                                                         "to this account before, with the right password.",
                    "headers": {"Retry-After": {"description": "Seconds to wait before trying again.",
                                                "schema": {"type": "integer", "minimum": 1}}}}}


@router.post("/auth/login", response_model=TokenOut, openapi_extra=access("public"), responses=THROTTLED)
def login(body: LoginIn, session: DbSession, request: Request, response: Response) -> TokenOut:
    """Exchange phone number and password for a bearer token. Wrong passwords are throttled per phone and
    per client address with growing waits (429 `too_many_attempts` with Retry-After); the response sets a
    known-device cookie, and a client that sends it back is never kept out by other people's guessing."""
    settings = request.app.state.settings
    try:  # a LoginThrottled goes out as it is: the error handler adds its Retry-After header
        user = service.authenticate(session, phone=body.phone, password=body.password,
                                    address=known_devices.client_address(request),
                                    device_cookie=request.cookies.get(known_devices.DEVICE_COOKIE),
                                    secret=settings.secret_key)
    except InvalidCredentials:
        # The failed attempt must be counted although the request fails (raising rolls back): that
        # count is what throttles password guessing.
        session.commit()
        raise
    known_devices.remember(request, response, user.id, settings)
    return _token_out(session, user)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=access("authenticated"))
def logout(
    principal: LoggedIn, session: DbSession, credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer_scheme)]
) -> Response:
    """Revoke the bearer token used for this request."""
    service.revoke(session, credentials.credentials, kind="bearer")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeRead, openapi_extra=access("authenticated"))
def me(principal: LoggedIn, session: DbSession) -> MeRead:
    """The logged-in account and its staff roles."""
    return service.me(session, principal.user_id)
