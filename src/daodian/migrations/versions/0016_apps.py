"""apps, their secrets and installations at merchants, OAuth tokens

Revision ID: 0016_apps
Revises: 0015_principal_changes
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0016_apps"
down_revision = "0015_principal_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # RESERVED: filled by the work that owns this revision; removed at integration if unused


def downgrade() -> None:
    pass
