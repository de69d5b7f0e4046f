"""photos and their thumbnails

Revision ID: 0020_media
Revises: 0019_login_throttle
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0020_media"
down_revision = "0019_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # RESERVED: filled by the work that owns this revision; removed at integration if unused


def downgrade() -> None:
    pass
