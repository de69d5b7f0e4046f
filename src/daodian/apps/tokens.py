"""Who an app's access token is: the principal the API's routes see (registered with accounts.tokens.foreign).

An installed app's token acts for its merchant as a manager would (never deleting the merchant, never managing
staff), under the installation's own account (apps.service.install): what it writes names the app. A token a
consumer authorised acts for that consumer alone, without any staff role or operator power they may have.
Either way the token carries its scopes; kit.api.scopes checks them route by route.
"""

from datetime import datetime

from sqlalchemy import Connection, select

from daodian.accounts.authz import Principal
from daodian.accounts.models import StaffRole, User
from daodian.accounts.tokens import foreign
from daodian.apps.models import App, AppInstallation, OAuthToken
from daodian.apps.secrets import ACCESS_TOKEN_PREFIX
from daodian.kit.clock import utcnow

INSTALLED_APP_ROLE = StaffRole.MANAGER

_LIVE_TOKEN = (
    select(OAuthToken.app_id, OAuthToken.installation_id, OAuthToken.user_id, OAuthToken.scopes,
           OAuthToken.expires_at, App.name, AppInstallation.merchant_id, AppInstallation.account_id,
           AppInstallation.uninstalled_at)
    .join(App, App.id == OAuthToken.app_id)
    .outerjoin(AppInstallation, AppInstallation.id == OAuthToken.installation_id)
)


def app_principal(connection: Connection, token_hash: str) -> tuple[Principal, datetime] | None:
    now = utcnow()
    row = connection.execute(_LIVE_TOKEN.where(OAuthToken.access_token_hash == token_hash,
                                               OAuthToken.revoked_at.is_(None), OAuthToken.expires_at > now,
                                               App.disabled_at.is_(None))).first()
    if row is None:
        return None
    scopes = frozenset(row.scopes.split())
    if row.installation_id is not None:
        if row.uninstalled_at is not None or row.account_id is None:
            return None
        principal = Principal(user_id=row.account_id, display_name=row.name,
                              roles={row.merchant_id: INSTALLED_APP_ROLE}, app_id=row.app_id,
                              installation_id=row.installation_id, scopes=scopes)
        return principal, row.expires_at
    consumer = connection.execute(select(User.display_name).where(User.id == row.user_id,
                                                                  User.is_active.is_(True))).first()
    if consumer is None:
        return None
    return Principal(user_id=row.user_id, display_name=consumer.display_name, app_id=row.app_id,
                     scopes=scopes), row.expires_at


def register() -> None:
    """Let the principal lookup send apps' tokens here (bootstrap)."""
    foreign.register(ACCESS_TOKEN_PREFIX, app_principal)
