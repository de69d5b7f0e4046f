"""apps, their secrets and installations at merchants, consumers' grants, OAuth codes and tokens

Revision ID: 0016_apps
Revises: 0015_principal_changes
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0016_apps"
down_revision = "0015_principal_changes"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INSTALLED = sa.text("uninstalled_at IS NULL")
GRANTED = sa.text("revoked_at IS NULL")


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, daodian.kit.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("developer_id", ID, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(length=48), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_secret_hash", sa.String(length=64), nullable=True),
        _when("previous_valid_until"),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("web_origins", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        _when("created_at", nullable=False),
        _when("secret_rotated_at"),
        _when("disabled_at"),
        sa.ForeignKeyConstraint(["developer_id"], ["users.id"], name=op.f("fk_apps_developer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("client_id", name=op.f("uq_apps_client_id")),
    )
    op.create_index(op.f("ix_apps_developer_id"), "apps", ["developer_id"], unique=False)

    op.create_table(
        "app_installations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("installed_by", ID, nullable=False),
        sa.Column("account_id", ID, nullable=True),
        _when("installed_at", nullable=False),
        _when("uninstalled_at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_app_installations_app_id_apps")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"],
                                name=op.f("fk_app_installations_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["installed_by"], ["users.id"], name=op.f("fk_app_installations_installed_by_users")),
        sa.ForeignKeyConstraint(["account_id"], ["users.id"], name=op.f("fk_app_installations_account_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_installations")),
    )
    op.create_index(op.f("ix_app_installations_app_id"), "app_installations", ["app_id"], unique=False)
    op.create_index(op.f("ix_app_installations_merchant_id"), "app_installations", ["merchant_id"], unique=False)
    op.create_index(op.f("ix_app_installations_account_id"), "app_installations", ["account_id"], unique=False)
    op.create_index("uq_app_installations_live", "app_installations", ["app_id", "merchant_id"], unique=True,
                    sqlite_where=INSTALLED, postgresql_where=INSTALLED)

    op.create_table(
        "app_consumer_grants",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        _when("granted_at", nullable=False),
        _when("revoked_at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_app_consumer_grants_app_id_apps")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_app_consumer_grants_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_consumer_grants")),
    )
    op.create_index(op.f("ix_app_consumer_grants_app_id"), "app_consumer_grants", ["app_id"], unique=False)
    op.create_index(op.f("ix_app_consumer_grants_user_id"), "app_consumer_grants", ["user_id"], unique=False)
    op.create_index("uq_app_consumer_grants_live", "app_consumer_grants", ["app_id", "user_id"], unique=True,
                    sqlite_where=GRANTED, postgresql_where=GRANTED)

    op.create_table(
        "oauth_codes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=False),
        _when("created_at", nullable=False),
        _when("expires_at", nullable=False),
        _when("used_at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_oauth_codes_app_id_apps")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_oauth_codes_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_codes_code_hash")),
    )
    op.create_index(op.f("ix_oauth_codes_app_id"), "oauth_codes", ["app_id"], unique=False)
    op.create_index(op.f("ix_oauth_codes_user_id"), "oauth_codes", ["user_id"], unique=False)

    op.create_table(
        "oauth_tokens",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("access_token_hash", sa.String(length=64), nullable=False),
        sa.Column("refresh_token_hash", sa.String(length=64), nullable=True),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("installation_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        _when("issued_at", nullable=False),
        _when("expires_at", nullable=False),
        _when("refresh_expires_at"),
        _when("revoked_at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_oauth_tokens_app_id_apps")),
        sa.ForeignKeyConstraint(["installation_id"], ["app_installations.id"],
                                name=op.f("fk_oauth_tokens_installation_id_app_installations")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_oauth_tokens_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_tokens")),
        sa.UniqueConstraint("access_token_hash", name=op.f("uq_oauth_tokens_access_token_hash")),
        sa.UniqueConstraint("refresh_token_hash", name=op.f("uq_oauth_tokens_refresh_token_hash")),
    )
    op.create_index(op.f("ix_oauth_tokens_app_id"), "oauth_tokens", ["app_id"], unique=False)
    op.create_index(op.f("ix_oauth_tokens_installation_id"), "oauth_tokens", ["installation_id"], unique=False)
    op.create_index(op.f("ix_oauth_tokens_user_id"), "oauth_tokens", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("oauth_tokens")
    op.drop_table("oauth_codes")
    op.drop_table("app_consumer_grants")
    op.drop_table("app_installations")
    op.drop_table("apps")
