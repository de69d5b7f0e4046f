"""job leases: each periodic job once per period across server processes

Revision ID: 0014_job_leases
Revises: 0013_outbox_cursors
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0014_job_leases"
down_revision = "0013_outbox_cursors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("due_at", daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("taken_at", daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_leases")),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
