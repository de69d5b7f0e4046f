"""checkout: coupons and points on orders

Revision ID: 0011_checkout
Revises: 0010_c2b
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db  # noqa: F401

revision = "0011_checkout"
down_revision = "0010_c2b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("discount_fen", sa.BigInteger(), server_default="0", nullable=False))
        batch.add_column(sa.Column("points_spent", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("discount_fen", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("discount_fen")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("points_spent")
        batch.drop_column("discount_fen")
