"""webhook endpoints, subscriptions and deliveries

Revision ID: 0017_webhooks
Revises: 0016_apps
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0017_webhooks"
down_revision = "0016_apps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # RESERVED: filled by the work that owns this revision; removed at integration if unused


def downgrade() -> None:
    pass
