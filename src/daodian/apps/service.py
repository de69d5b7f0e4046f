"""Apps' rules: registering and editing an app, rotating its secret, installing it at a merchant and
uninstalling it, consumers' grants. Flushes, never commits.

Whatever ends an app's tokens (uninstalling, disabling, a consumer's revocation) revokes them in the same
transaction and records a principal change (accounts.tokens.changes), so every process forgets them at once.
"""

import secrets as secrets_module
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal, require_login
from daodian.accounts.models import StaffRole, User
from daodian.accounts.tokens.changes import record_change
from daodian.accounts.tokens.hashing import hash_token
from daodian.apps import secrets
from daodian.apps.errors import AlreadyInstalled, AppDisabled, AppNotFound, InstallationNotFound, InvalidAppSettings
from daodian.apps.models import App, AppInstallation, ConsumerGrant, OAuthToken
from daodian.kit.api.scopes import SCOPES
from daodian.kit.clock import utcnow
from daodian.kit.errors import Forbidden
from daodian.merchants import service as merchants

SECRET_OVERLAP = timedelta(hours=24)  # the previous secret still works this long after a rotation
# An installation's own account: a "phone" no login form accepts (11 digits wanted) and no password hash that
# any password matches.
APP_ACCOUNT_PREFIX = "app-"
NO_PASSWORD = "!app"
MAX_URIS = 10
LOOPBACK = {"localhost", "127.0.0.1", "[::1]", "::1"}


def scope_set(scopes: str) -> frozenset[str]:
    return frozenset(scopes.split())


def _clean_scopes(scopes: list[str] | str) -> str:
    names = scopes.split() if isinstance(scopes, str) else scopes
    unknown = sorted(set(names) - SCOPES.keys())
    if unknown:
        raise InvalidAppSettings(f"Unknown scopes: {', '.join(unknown)}.", details={"unknown_scopes": unknown})
    return " ".join(sorted(set(names)))


def _secure(parts) -> bool:
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


def clean_redirect_uris(uris: list[str]) -> list[str]:
    """Absolute https URIs (http only on this machine, for development), no fragment: compared exactly."""
    cleaned = []
    for uri in (u.strip() for u in uris):
        if not uri:
            continue
        parts = urlsplit(uri)
        if not parts.hostname or not _secure(parts) or parts.fragment or len(uri) > 500:
            raise InvalidAppSettings(f"Not a usable redirect URI: {uri}", details={"redirect_uri": uri})
        cleaned.append(uri)
    if len(cleaned) > MAX_URIS:
        raise InvalidAppSettings(f"At most {MAX_URIS} redirect URIs.")
    return cleaned


def clean_origins(origins: list[str]) -> list[str]:
    """Web origins as browsers send them: scheme://host[:port], nothing else."""
    cleaned = []
    for origin in (o.strip().rstrip("/") for o in origins):
        if not origin:
            continue
        parts = urlsplit(origin)
        if (not parts.hostname or not _secure(parts) or parts.path or parts.query or parts.fragment
                or parts.username or origin != f"{parts.scheme}://{parts.netloc}".lower()):
            raise InvalidAppSettings(f"Not a web origin: {origin}", details={"web_origin": origin})
        cleaned.append(origin)
    if len(cleaned) > MAX_URIS:
        raise InvalidAppSettings(f"At most {MAX_URIS} web origins.")
    return cleaned


def register_app(session: Session, principal: Principal, *, name: str, description: str = "",
                 redirect_uris: list[str], web_origins: list[str], scopes: list[str]) -> tuple[App, str]:
    """A new app of the caller's, and its client secret (shown once; only its hash is kept)."""
    require_login(principal)
    if principal.is_app:
        raise Forbidden("Apps may not register apps.")
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise InvalidAppSettings("An app's name is 1 to 80 characters.")
    secret = secrets.new_secret()
    app = App(developer_id=principal.user_id, name=name, description=description.strip()[:2000],
              client_id=secrets.new_client_id(), secret_hash=hash_token(secret),
              redirect_uris=clean_redirect_uris(redirect_uris), web_origins=clean_origins(web_origins),
              scopes=_clean_scopes(scopes))
    session.add(app)
    session.flush()
    return app, secret


def my_apps(session: Session, principal: Principal) -> list[App]:
    require_login(principal)
    return list(session.scalars(select(App).where(App.developer_id == principal.user_id).order_by(App.id)))


def developers_app(session: Session, principal: Principal, app_id: int) -> App:
    """One of the caller's own apps; anyone else's answers as a missing one."""
    require_login(principal)
    app = session.get(App, app_id)
    if app is None or app.developer_id != principal.user_id or principal.is_app:
        raise AppNotFound()
    return app


def update_app(session: Session, app: App, *, name: str, description: str, redirect_uris: list[str],
               web_origins: list[str], scopes: list[str]) -> App:
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise InvalidAppSettings("An app's name is 1 to 80 characters.")
    uris, origins, wanted = clean_redirect_uris(redirect_uris), clean_origins(web_origins), _clean_scopes(scopes)
    app.name, app.description = name, description.strip()[:2000]
    app.redirect_uris, app.web_origins = uris, origins
    app.scopes = wanted  # installations keep what their owners granted (a token gets the intersection)
    session.flush()
    return app


def rotate_secret(session: Session, app: App, overlap: timedelta = SECRET_OVERLAP) -> str:
    """A new secret; the current one keeps working for `overlap`, then only the new one does."""
    now = utcnow()
    secret = secrets.new_secret()
    app.previous_secret_hash, app.previous_valid_until = app.secret_hash, now + overlap
    app.secret_hash, app.secret_rotated_at = hash_token(secret), now
    session.flush()
    return secret


def disable_app(session: Session, app: App) -> None:
    """Stop an app everywhere: its tokens end at once."""
    app.disabled_at = utcnow()
    _revoke_tokens(session, OAuthToken.app_id == app.id)


def app_by_client_id(session: Session, client_id: str) -> App | None:
    return session.scalar(select(App).where(App.client_id == client_id))


def live_app(session: Session, client_id: str) -> App:
    app = app_by_client_id(session, client_id)
    if app is None:
        raise AppNotFound()
    if app.disabled_at is not None:
        raise AppDisabled()
    return app


# Installations -------------------------------------------------------------------------------------------

def require_owner(principal: Principal, merchant_id: int) -> None:
    """Only the merchant's owner installs and uninstalls apps (they decide what leaves the shop)."""
    require_login(principal)
    if principal.is_app or principal.roles.get(merchant_id) != StaffRole.OWNER:
        raise Forbidden("Only the merchant's owner may install or uninstall apps.")


def live_installation(session: Session, app_id: int, merchant_id: int) -> AppInstallation | None:
    return session.scalar(select(AppInstallation).where(
        AppInstallation.app_id == app_id, AppInstallation.merchant_id == merchant_id,
        AppInstallation.uninstalled_at.is_(None)))


def install(session: Session, principal: Principal, app: App, merchant_id: int,
            scopes: list[str] | None = None) -> AppInstallation:
    """Install `app` at the merchant, granting `scopes` (those the app asks for, or fewer)."""
    require_owner(principal, merchant_id)
    merchants.get_merchant(session, merchant_id)
    if app.disabled_at is not None:
        raise AppDisabled()
    granted = scope_set(_clean_scopes(scopes if scopes is not None else app.scopes))
    if not granted <= scope_set(app.scopes):
        raise InvalidAppSettings("An installation grants only scopes the app asks for.")
    if live_installation(session, app.id, merchant_id) is not None:
        raise AlreadyInstalled()
    account = User(phone=APP_ACCOUNT_PREFIX + secrets_module.token_hex(8), display_name=app.name[:64],
                   password_hash=NO_PASSWORD)
    session.add(account)
    session.flush()
    installation = AppInstallation(app_id=app.id, merchant_id=merchant_id, scopes=" ".join(sorted(granted)),
                                   installed_by=principal.user_id, account_id=account.id)
    session.add(installation)
    session.flush()
    return installation


def installations_of_merchant(session: Session, merchant_id: int) -> list[tuple[AppInstallation, App]]:
    return list(session.execute(
        select(AppInstallation, App).join(App, App.id == AppInstallation.app_id)
        .where(AppInstallation.merchant_id == merchant_id, AppInstallation.uninstalled_at.is_(None))
        .order_by(AppInstallation.id)).all())


def uninstall(session: Session, principal: Principal, installation_id: int, merchant_id: int) -> None:
    """Uninstall: the installation's tokens stop working at once, in every process."""
    require_owner(principal, merchant_id)
    installation = session.get(AppInstallation, installation_id)
    if installation is None or installation.merchant_id != merchant_id or installation.uninstalled_at is not None:
        raise InstallationNotFound()
    installation.uninstalled_at = utcnow()
    _revoke_tokens(session, OAuthToken.installation_id == installation.id)


# Consumers' grants ---------------------------------------------------------------------------------------

def grant_for_consumer(session: Session, app: App, user_id: int, scopes: frozenset[str]) -> ConsumerGrant:
    """Record (or widen) a consumer's consent to the app."""
    grant = session.scalar(select(ConsumerGrant).where(ConsumerGrant.app_id == app.id,
                                                       ConsumerGrant.user_id == user_id,
                                                       ConsumerGrant.revoked_at.is_(None)))
    if grant is None:
        grant = ConsumerGrant(app_id=app.id, user_id=user_id, scopes=" ".join(sorted(scopes)))
        session.add(grant)
    else:
        grant.scopes = " ".join(sorted(scope_set(grant.scopes) | scopes))
    session.flush()
    return grant


def consumer_grants(session: Session, user_id: int) -> list[tuple[ConsumerGrant, App]]:
    return list(session.execute(
        select(ConsumerGrant, App).join(App, App.id == ConsumerGrant.app_id)
        .where(ConsumerGrant.user_id == user_id, ConsumerGrant.revoked_at.is_(None))
        .order_by(ConsumerGrant.id)).all())


def revoke_consumer_grant(session: Session, principal: Principal, grant_id: int) -> None:
    require_login(principal)
    grant = session.get(ConsumerGrant, grant_id)
    if grant is None or grant.user_id != principal.user_id or grant.revoked_at is not None or principal.is_app:
        raise AppNotFound()
    grant.revoked_at = utcnow()
    _revoke_tokens(session, OAuthToken.app_id == grant.app_id, OAuthToken.user_id == grant.user_id)


def _revoke_tokens(session: Session, *where) -> None:
    now = utcnow()
    owners = session.execute(
        update(OAuthToken).where(*where, OAuthToken.revoked_at.is_(None)).values(revoked_at=now)
        .returning(OAuthToken.user_id, OAuthToken.installation_id)).all()
    accounts = {user_id for user_id, _ in owners if user_id is not None}
    installations = {installation_id for _, installation_id in owners if installation_id is not None}
    if installations:  # an installation's tokens are remembered under its own account
        accounts |= set(session.scalars(select(AppInstallation.account_id)
                                        .where(AppInstallation.id.in_(installations))))
    record_change(session, accounts)


def revoke_token(session: Session, token: OAuthToken) -> None:
    _revoke_tokens(session, OAuthToken.id == token.id)


def token_expired(token: OAuthToken, now: datetime) -> bool:
    return token.expires_at <= now
