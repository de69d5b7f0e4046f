"""The OAuth 2.0 authorization server, built on Authlib's framework-agnostic core.

Grants: client credentials (an installed app acting for one merchant: `merchant_id` names which), the
authorization code with PKCE (S256 only; a consumer authorising an app for their own data), and the refresh
token (consumers' tokens only, rotated on every use). Endpoints: revocation (RFC 7009) and introspection
(RFC 7662). One server object is made per request around that request's Session (making one only registers
the grant and endpoint classes); apps.oauth_http adapts Starlette's requests to it.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from functools import cached_property

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.requests import JsonPayload, JsonRequest, OAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from daodian.accounts.models import User
from daodian.accounts.tokens.hashing import hash_token
from daodian.apps import secrets, service
from daodian.apps.models import App, AppInstallation, AuthorizationCode, OAuthToken
from daodian.kit.api.scopes import SCOPES
from daodian.kit.clock import utcnow

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_DAYS = 30
CODE_SECONDS = 600
SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
# A consumer-facing app may be a page or a phone app that cannot keep a secret: PKCE binds its code instead.
PUBLIC_OR_SECRET_METHODS = [*SECRET_METHODS, "none"]


class FormPayload(OAuth2Payload):
    """A request's parameters (the query's, then the form's) as Authlib reads them."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._pairs = pairs

    @cached_property
    def data(self) -> dict[str, str]:
        data: dict[str, str] = {}
        for key, value in self._pairs:
            data.setdefault(key, value)
        return data

    @cached_property
    def datalist(self) -> defaultdict[str, list]:
        values: defaultdict[str, list] = defaultdict(list)
        for key, value in self._pairs:
            values[key].append(value)
        return values


class ReadFields(JsonPayload):
    """A request's fields as a JSON payload."""

    def __init__(self, fields: dict[str, str]):
        self._fields = fields

    @property
    def data(self) -> dict[str, str]:
        return self._fields


class PlainRequest(OAuth2Request):
    """An HTTP request already read (apps.oauth_http), so Authlib's synchronous code can run in a thread."""

    def __init__(self, method: str, uri: str, headers, query: list[tuple[str, str]], form: list[tuple[str, str]]):
        super().__init__(method=method, uri=uri, headers=headers)
        self._query, self._form = dict(query), dict(form)
        self.payload = FormPayload(query + form)
        self.installation: AppInstallation | None = None

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class Client(ClientMixin):
    """An app as Authlib sees it."""

    def __init__(self, app: App):
        self.app = app

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.app.redirect_uris[0] if len(self.app.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = service.scope_set(self.app.scopes)
        if not scope:
            return " ".join(sorted(allowed))
        return " ".join(sorted(s for s in scope.split() if s in allowed))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.secret_matches(self.app, client_secret, utcnow())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in PUBLIC_OR_SECRET_METHODS  # each grant and endpoint narrows it (their *_METHODS)

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "client_credentials", "refresh_token")


class Code:
    """A stored authorization code as Authlib (and its PKCE extension) reads it."""

    def __init__(self, row: AuthorizationCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scopes

    def get_auth_time(self) -> None:
        return None

    def get_nonce(self) -> None:
        return None


class Token(TokenMixin):
    def __init__(self, row: OAuthToken):
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.app_id == client.app.id

    def get_scope(self) -> str:
        return self.row.scopes

    def get_expires_in(self) -> int:
        return max(0, int((self.row.expires_at - self.row.issued_at).total_seconds()))

    def is_expired(self) -> bool:
        return self.row.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def get_user(self):
        return self.row.user_id

    def get_client(self):
        return self.row.app_id


class ClientCredentials(grants.ClientCredentialsGrant):
    """An installed app's token for one merchant: `merchant_id` in the request names the installation."""

    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS

    def validate_token_request(self) -> None:
        super().validate_token_request()
        raw = self.request.payload.data.get("merchant_id", "")
        if not raw.isdigit() or len(raw) > 18:
            raise InvalidRequestError("Give 'merchant_id': the merchant the app is installed at.")
        installation = service.live_installation(self.server.session, self.request.client.app.id, int(raw))
        if installation is None:
            raise InvalidGrantError("The app is not installed at this merchant.")
        granted = service.scope_set(installation.scopes)
        requested = set((self.request.payload.scope or "").split()) or granted
        if not requested <= granted:
            raise InvalidScopeError("The installation did not grant: " + " ".join(sorted(requested - granted)))
        self.request.installation = installation
        self.request.granted_scope = " ".join(sorted(requested))

    def create_token_response(self):
        token = self.generate_token(scope=self.request.granted_scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_OR_SECRET_METHODS

    def save_authorization_code(self, code: str, request: PlainRequest) -> None:
        client: Client = request.client
        redirect_uri = request.payload.redirect_uri or client.get_default_redirect_uri()
        scope = client.get_allowed_scope(request.payload.scope)
        now = utcnow()
        self.server.session.add(AuthorizationCode(
            code_hash=hash_token(code), app_id=client.app.id, user_id=request.user.id, redirect_uri=redirect_uri,
            scopes=scope, code_challenge=request.payload.data["code_challenge"],
            code_challenge_method=request.payload.data.get("code_challenge_method", "plain"),
            created_at=now, expires_at=now + timedelta(seconds=CODE_SECONDS)))
        service.grant_for_consumer(self.server.session, client.app, request.user.id, service.scope_set(scope))

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        row = self.server.session.scalar(select(AuthorizationCode).where(
            AuthorizationCode.code_hash == hash_token(code), AuthorizationCode.app_id == client.app.id))
        if row is None or row.used_at is not None or row.expires_at <= utcnow():
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        authorization_code.row.used_at = utcnow()  # kept, marked used: a code works once

    def authenticate_user(self, authorization_code: Code) -> User | None:
        return _active_user(self.server.session, authorization_code.row.user_id)

    def generate_authorization_code(self) -> str:
        return secrets.new_code()


class S256Only(CodeChallenge):
    """PKCE on every authorization request, S256 only: "plain" (also what a missing method means) would send
    the verifier in the clear. Authlib's own check lets a request without a challenge through to the token
    endpoint; here it is refused at once, before a code exists."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Unsupported 'code_challenge_method': use S256.")
        super().validate_code_challenge(grant, redirect_uri)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_OR_SECRET_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = self.server.session.scalar(select(OAuthToken).where(
            OAuthToken.refresh_token_hash == hash_token(refresh_token)))
        if (row is None or row.revoked_at is not None or row.refresh_expires_at is None
                or row.refresh_expires_at <= utcnow()):
            return None
        return Token(row)

    def authenticate_user(self, refresh_token: Token) -> User | None:
        return _active_user(self.server.session, refresh_token.row.user_id)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        service.revoke_token(self.server.session, refresh_token.row)


def _active_user(session: Session, user_id: int | None) -> User | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.is_active else None


def _query_token(session: Session, token_string: str, hint: str | None) -> Token | None:
    token_hash = hash_token(token_string)
    column = {"access_token": OAuthToken.access_token_hash, "refresh_token": OAuthToken.refresh_token_hash}
    where = column[hint] == token_hash if hint in column else or_(
        OAuthToken.access_token_hash == token_hash, OAuthToken.refresh_token_hash == token_hash)
    row = session.scalar(select(OAuthToken).where(where))
    return Token(row) if row is not None else None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = PUBLIC_OR_SECRET_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return _query_token(self.server.session, token_string, token_type_hint)

    def revoke_token(self, token: Token, request) -> None:
        service.revoke_token(self.server.session, token.row)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = SECRET_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return _query_token(self.server.session, token_string, token_type_hint)

    def check_permission(self, token: Token, client: Client, request) -> bool:
        return token.check_client(client)  # an app learns about its own tokens only

    def introspect_token(self, token: Token) -> dict:
        row = token.row
        app = self.server.session.get(App, row.app_id)
        installation = self.server.session.get(AppInstallation, row.installation_id) if row.installation_id else None
        if app.disabled_at is not None or (installation is not None and installation.uninstalled_at is not None):
            return {"active": False}
        body = {"active": True, "client_id": app.client_id, "scope": row.scopes, "token_type": "Bearer",
                "exp": int(row.expires_at.timestamp()), "iat": int(row.issued_at.timestamp())}
        if installation is not None:
            body["merchant_id"] = installation.merchant_id
        else:
            body["sub"] = str(row.user_id)
        return body


def _access_token(**_kwargs) -> str:
    return secrets.new_access_token()


def _refresh_token(**_kwargs) -> str:
    return secrets.new_refresh_token()


class Server(AuthorizationServer):
    """One request's authorization server, over that request's Session (which its caller commits)."""

    def __init__(self, session: Session):
        super().__init__(scopes_supported=list(SCOPES))
        self.session = session
        self.register_token_generator("default", BearerTokenGenerator(_access_token, _refresh_token,
                                                                      ACCESS_TOKEN_SECONDS))
        self.register_grant(ClientCredentials)
        self.register_grant(AuthorizationCodeGrant, [S256Only(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def query_client(self, client_id: str) -> Client | None:
        app = service.app_by_client_id(self.session, client_id) if client_id else None
        return Client(app) if app is not None and app.disabled_at is None else None

    def save_token(self, token: dict, request: PlainRequest) -> None:
        now: datetime = utcnow()
        installation = request.installation
        refresh = token.get("refresh_token")
        self.session.add(OAuthToken(
            access_token_hash=hash_token(token["access_token"]),
            refresh_token_hash=hash_token(refresh) if refresh else None,
            app_id=request.client.app.id, installation_id=installation.id if installation else None,
            user_id=None if installation else request.user.id, scopes=token.get("scope", ""),
            issued_at=now, expires_at=now + timedelta(seconds=token["expires_in"]),
            refresh_expires_at=now + timedelta(days=REFRESH_TOKEN_DAYS) if refresh else None))
        self.session.flush()

    def create_oauth2_request(self, request: PlainRequest) -> PlainRequest:
        return request

    def create_json_request(self, request: PlainRequest) -> JsonRequest:
        """Authlib asks for this only from its JSON endpoints (dynamic client registration, RFC 7591/7592), which
        daodian does not mount (apps are registered in the developer console); the fields as read stand in."""
        json_request = JsonRequest(request.method, request.uri, request.headers)
        json_request.payload = ReadFields({**request.args, **request.form})
        return json_request

    def handle_response(self, status: int, body, headers) -> tuple[int, object, list]:
        return status, body, list(headers or [])

    def send_signal(self, name: str, *args, **kwargs) -> None:
        pass
