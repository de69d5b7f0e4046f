"""loyalty: member tiers, follows, merchant posts, earning rules

Revision ID: 0009_loyalty
Revises: 0008_marketing
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0009_loyalty"
down_revision = "0008_marketing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
