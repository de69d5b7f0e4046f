"""checkout: coupons and points on orders

Revision ID: 0011_checkout
Revises: 0010_c2b
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0011_checkout"
down_revision = "0010_c2b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
