"""login attempts per phone and per address, known devices

Revision ID: 0019_login_throttle
Revises: 0018_delivery
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0019_login_throttle"
down_revision = "0018_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles'))
    )


def downgrade() -> None:
    op.drop_table('login_throttles')
