"""outbox cursors: where each asynchronous consumer of the facts outbox stands

Revision ID: 0013_outbox_cursors
Revises: 0012_coupon_stock
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0013_outbox_cursors"
down_revision = "0012_coupon_stock"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_cursors",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_outbox_cursors")),
    )


def downgrade() -> None:
    op.drop_table("outbox_cursors")
