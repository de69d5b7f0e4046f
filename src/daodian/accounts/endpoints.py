from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from daodian.accounts import service
from daodian.accounts.dependencies import LoggedIn, bearer_scheme
from daodian.accounts.errors import InvalidCredentials
from daodian.accounts.schemas import LoginIn, MeRead, RegisterIn, TokenOut
from daodian.kit.api.http import DbSession, access
from daodian.kit.settings import get_settings

router = APIRouter(tags=["accounts"])


def _token_out(session, user) -> TokenOut:
    token, expires_at = service.open_session(session, user, kind="bearer", days=get_settings().session_days)
    return TokenOut(access_token=token, expires_at=expires_at, user=service.me(session, user.id))


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=TokenOut,
             openapi_extra=access("public"))
def register(body: RegisterIn, session: DbSession) -> TokenOut:
    """Create a consumer account with a mainland mobile number and a password."""
    user = service.register(session, phone=body.phone, password=body.password, display_name=body.display_name)
    return _token_out(session, user)


@router.post("/auth/login", response_model=TokenOut, openapi_extra=access("public"))
def login(body: LoginIn, session: DbSession) -> TokenOut:
    """Exchange phone number and password for a bearer token."""
    try:
        user = service.authenticate(session, phone=body.phone, password=body.password)
    except InvalidCredentials:
        # The failed attempt must be counted although the request fails (raising rolls back): that
        # count is what throttles password guessing.
        session.commit()
        raise
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
