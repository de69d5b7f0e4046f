"""at-home service items and visits: service_items.at_home, couriers.is_provider, deliveries.kind and
deliveries.handover_failures

Revision ID: 0022_at_home_visits
Revises: 0021_operator_categories
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_at_home_visits"
down_revision = "0021_operator_categories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain columns with server defaults (no enum types: kinds are strings, checked in Python), so existing rows
    # read as before on SQLite and PostgreSQL alike.
    with op.batch_alter_table("service_items") as batch:
        batch.add_column(sa.Column("at_home", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("couriers") as batch:
        batch.add_column(sa.Column("is_provider", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), server_default="delivery", nullable=False))
        batch.add_column(sa.Column("handover_failures", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("handover_failures")
        batch.drop_column("kind")
    with op.batch_alter_table("couriers") as batch:
        batch.drop_column("is_provider")
    with op.batch_alter_table("service_items") as batch:
        batch.drop_column("at_home")
