"""Access tokens as httpx authentication flows: a fixed bearer token, the client-credentials grant (an app
acting for an installing merchant), and refresh tokens (an app acting for a consumer). The flows fetch or
refresh a token before it expires and once more when the server answers 401 (revoked, rotated)."""

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

TOKEN_PATH = "/oauth/token"
EARLY_SECONDS = 30  # renew this long before the server's expiry


class TokenError(RuntimeError):
    """The token endpoint refused: `code` is its OAuth error (invalid_client, invalid_grant, ...)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.status = code, status


@dataclass
class Token:
    access_token: str
    expires_at: float
    refresh_token: str | None = None
    scope: str = ""


def _token_from(response: httpx.Response) -> Token:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        error = body.get("error")
        if isinstance(error, dict):  # daodian's envelope
            raise TokenError(error.get("code", "token_error"), error.get("message", ""), response.status_code)
        raise TokenError(str(error or "token_error"), str(body.get("error_description", response.text[:200])),
                         response.status_code)
    return Token(body["access_token"], time.time() + float(body.get("expires_in", 3600)),
                 body.get("refresh_token"), body.get("scope", ""))


class BearerToken(httpx.Auth):
    """A token you already hold (a developer's login token, or one your own store keeps)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class _Renewing(httpx.Auth):
    """Shared by the grants: one token at a time, renewed before expiry and after a 401, thread-safe."""

    requires_response_body = True

    def __init__(self, token_url: str | None) -> None:
        self.token_url = token_url
        self.token: Token | None = None
        self._lock = threading.Lock()

    def _renew(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError

    def _url(self, request: httpx.Request) -> httpx.URL:
        return httpx.URL(self.token_url) if self.token_url else request.url.copy_with(path=TOKEN_PATH, query=None)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            if self.token is None or self.token.expires_at - EARLY_SECONDS <= time.time():
                yield from self._renew(request)
            token = self.token.access_token
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:  # revoked or rotated: one fresh token, one more try
            with self._lock:
                if self.token.access_token == token:
                    yield from self._renew(request)
                token = self.token.access_token
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


class ClientCredentials(_Renewing):
    """The client-credentials grant: the app's id and secret buy a token for a merchant that installed the app
    (`scope`: a subset of what the merchant granted; default all of it)."""

    def __init__(self, client_id: str, client_secret: str, merchant_id: int, *, scope: str | None = None,
                 token_url: str | None = None) -> None:
        super().__init__(token_url)
        self.client_id, self.client_secret, self.merchant_id, self.scope = client_id, client_secret, merchant_id, scope

    def _renew(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        form = {"grant_type": "client_credentials", "merchant_id": str(self.merchant_id)}
        if self.scope:
            form["scope"] = self.scope
        response = yield _form_request(self._url(request), form, self.client_id, self.client_secret)
        self.token = _token_from(response)


class RefreshingToken(_Renewing):
    """Tokens from the authorization-code grant: when the access token expires (or is refused), the refresh
    token buys a new pair; `on_refresh` lets you store it (refresh tokens rotate: the old one stops working)."""

    def __init__(self, access_token: str, refresh_token: str, client_id: str, client_secret: str, *,
                 expires_at: float = 0.0, on_refresh: Callable[[Token], None] | None = None,
                 token_url: str | None = None) -> None:
        super().__init__(token_url)
        self.token = Token(access_token, expires_at, refresh_token)
        self.client_id, self.client_secret, self.on_refresh = client_id, client_secret, on_refresh

    def _renew(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        form = {"grant_type": "refresh_token", "refresh_token": self.token.refresh_token}
        response = yield _form_request(self._url(request), form, self.client_id, self.client_secret)
        fresh = _token_from(response)
        fresh.refresh_token = fresh.refresh_token or self.token.refresh_token
        self.token = fresh
        if self.on_refresh:
            self.on_refresh(fresh)


def _form_request(url: httpx.URL, form: dict[str, str], client_id: str, client_secret: str) -> httpx.Request:
    """A token request, the client authenticated with HTTP Basic (RFC 6749 2.3.1)."""
    request = httpx.Request("POST", url, data=form, headers={"Accept": "application/json"})
    return next(httpx.BasicAuth(client_id, client_secret).auth_flow(request))
