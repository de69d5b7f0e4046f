"""Apps for tests: registered, installed and given tokens through the apps domain's own services."""

import base64
import hashlib
import secrets as random
from datetime import timedelta

from sqlalchemy.orm import Session

from daodian.accounts.tokens.hashing import hash_token
from daodian.apps import secrets, service
from daodian.apps.models import App, AppInstallation, OAuthToken
from daodian.kit.clock import utcnow
from tests.factories import principal_of

ALL_SCOPES = ["catalog:read", "catalog:write", "map:read", "member:read", "member:write", "order:read",
              "order:write", "payment:read", "payment:write", "marketing:read", "marketing:write", "analytics:read"]


def register(db: Session, developer, *, scopes=ALL_SCOPES, origins=(), redirect_uris=("https://app.example/cb",),
             name: str = "记账助手") -> tuple[App, str]:
    return service.register_app(db, principal_of(db, developer), name=name, redirect_uris=list(redirect_uris),
                                web_origins=list(origins), scopes=list(scopes))


def install(db: Session, app: App, merchant, owner, scopes=None) -> AppInstallation:
    return service.install(db, principal_of(db, owner), app, merchant.id, scopes)


def mint(db: Session, app: App, *, installation: AppInstallation | None = None, user=None, scopes: str) -> str:
    """An access token as the token endpoint would store it (for tests about using tokens, not getting them)."""
    token = secrets.new_access_token()
    now = utcnow()
    db.add(OAuthToken(access_token_hash=hash_token(token), app_id=app.id,
                      installation_id=installation.id if installation else None,
                      user_id=user.id if user is not None else None, scopes=scopes, issued_at=now,
                      expires_at=now + timedelta(hours=1)))
    db.flush()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pkce() -> tuple[str, str]:
    verifier = random.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge
