"""principal changes: what changed who an account is, for the processes that remember principals

Revision ID: 0015_principal_changes
Revises: 0014_job_leases
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0015_principal_changes"
down_revision = "0014_job_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "principal_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("changed_at", daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principal_changes")),
    )
    op.create_index(op.f("ix_principal_changes_changed_at"), "principal_changes", ["changed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_principal_changes_changed_at"), table_name="principal_changes")
    op.drop_table("principal_changes")
