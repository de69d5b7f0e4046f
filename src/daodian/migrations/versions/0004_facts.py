"""facts: the append-only outbox of the closed loop

Revision ID: 0004_facts
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db
from daodian.kit.append_only import protect, unprotect

revision = "0004_facts"
down_revision = "0003_linkage"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "facts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("occurred_at", daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("merchant_id", Id, nullable=True),
        sa.Column("store_id", Id, nullable=True),
        sa.Column("consumer_id", Id, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_facts_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_facts_store_id_stores")),
        sa.ForeignKeyConstraint(["consumer_id"], ["users.id"], name=op.f("fk_facts_consumer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facts")),
    )
    op.create_index(op.f("ix_facts_kind"), "facts", ["kind"])
    op.create_index(op.f("ix_facts_occurred_at"), "facts", ["occurred_at"])
    op.create_index(op.f("ix_facts_merchant_id"), "facts", ["merchant_id"])
    op.create_index(op.f("ix_facts_consumer_id"), "facts", ["consumer_id"])
    protect("facts")


def downgrade() -> None:
    unprotect("facts")
    op.drop_table("facts")
