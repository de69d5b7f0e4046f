"""couriers, shifts, positions, deliveries and dispatch assignments

Revision ID: 0018_delivery
Revises: 0017_webhooks
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0018_delivery"
down_revision = "0017_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # RESERVED: filled by the work that owns this revision; removed at integration if unused


def downgrade() -> None:
    pass
