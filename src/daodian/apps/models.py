"""Apps, their installations at merchants, consumers' grants, and the OAuth 2.0 codes and tokens issued.

Secrets, codes and tokens are stored as SHA-256 hashes only; what the developer or the app holds is shown
once. Scopes are space-separated, as OAuth 2.0 writes them (apps.scopes lists the names).
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime

_INSTALLED = text("uninstalled_at IS NULL")
_GRANTED = text("revoked_at IS NULL")


class App(Base):
    """A developer's app. The client secret may be rotated: the previous one keeps working until
    `previous_valid_until`, so the app's servers can be switched over without an outage."""

    __tablename__ = "apps"

    id: Mapped[IdPk]
    developer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str] = mapped_column(String(48), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)  # exact matches only
    web_origins: Mapped[list] = mapped_column(JSON, default=list)  # scheme://host[:port], for the embed and CORS
    scopes: Mapped[str] = mapped_column(String(255), default="")  # the scopes it may ask for
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AppInstallation(Base):
    """An app installed by a merchant's owner: the app acts for that merchant within `scopes`, under an account
    of its own (`account_id`: no password, no login, owns nothing of anyone's), so what it writes says the
    app did it, and no route about the caller's own purchases ever finds a person's."""

    __tablename__ = "app_installations"
    __table_args__ = (
        Index("uq_app_installations_live", "app_id", "merchant_id", unique=True,
              sqlite_where=_INSTALLED, postgresql_where=_INSTALLED),
    )

    id: Mapped[IdPk]
    app_id: Mapped[int] = mapped_column(BigId, ForeignKey("apps.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(255))  # granted
    installed_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    account_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsumerGrant(Base):
    """A consumer's consent that an app reads or acts on their own data; revoking it ends its tokens."""

    __tablename__ = "app_consumer_grants"
    __table_args__ = (
        Index("uq_app_consumer_grants_live", "app_id", "user_id", unique=True,
              sqlite_where=_GRANTED, postgresql_where=_GRANTED),
    )

    id: Mapped[IdPk]
    app_id: Mapped[int] = mapped_column(BigId, ForeignKey("apps.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthorizationCode(Base):
    """A one-time code of the authorization code grant, bound to its PKCE challenge."""

    __tablename__ = "oauth_codes"

    id: Mapped[IdPk]
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(BigId, ForeignKey("apps.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scopes: Mapped[str] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OAuthToken(Base):
    """An access token (and for consumers a refresh token) issued to an app: for one installation
    (client credentials) or for one consumer (authorization code), never both."""

    __tablename__ = "oauth_tokens"

    id: Mapped[IdPk]
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(BigId, ForeignKey("apps.id"), index=True)
    installation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("app_installations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
