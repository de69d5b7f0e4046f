"""c2b: tiered group buys and pre-sales by vote

Revision ID: 0010_c2b
Revises: 0009_loyalty
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0010_c2b"
down_revision = "0009_loyalty"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
