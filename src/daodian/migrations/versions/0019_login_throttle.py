"""login attempts per phone and per address, known devices

Revision ID: 0019_login_throttle
Revises: 0018_delivery
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0019_login_throttle"
down_revision = "0018_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # RESERVED: filled by the work that owns this revision; removed at integration if unused


def downgrade() -> None:
    pass
