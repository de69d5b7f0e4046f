"""categories operators manage: a status (retired ones leave the trees) and when an operator last edited one

Operators add, rename, retire and re-activate categories from the console. The code-defined seed
(taxonomy/tree.py) is synced at every `daodian db upgrade`; `operator_edited_at` tells that sync to leave
a category an operator has edited alone, and the sync never touches `status`, so edits survive re-syncs.

Revision ID: 0021_operator_categories
Revises: 0020_media
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0021_operator_categories"
down_revision = "0020_media"
branch_labels = None
depends_on = None

TABLES = ("product_categories", "service_categories")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("status", sa.String(length=16), server_default="active", nullable=False))
            batch.add_column(sa.Column("operator_edited_at", daodian.kit.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("operator_edited_at")
            batch.drop_column("status")
