"""analytics: consents to be identified to a merchant, members' RFM segments

Revision ID: 0007_analytics
Revises: 0006_records
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0007_analytics"
down_revision = "0006_records"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = daodian.kit.db.UTCDateTime(timezone=True)
LIVE = sa.text("withdrawn_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "merchant_consents",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("consumer_id", Id, nullable=False),
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("granted_at", Moment, nullable=False),
        sa.Column("withdrawn_at", Moment, nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["consumer_id"], ["users.id"], name=op.f("fk_merchant_consents_consumer_id_users")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"],
                                name=op.f("fk_merchant_consents_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_consents")),
    )
    op.create_index(op.f("ix_merchant_consents_consumer_id"), "merchant_consents", ["consumer_id"])
    op.create_index(op.f("ix_merchant_consents_merchant_id"), "merchant_consents", ["merchant_id"])
    op.create_index("uq_merchant_consents_live", "merchant_consents", ["consumer_id", "merchant_id", "scope"],
                    unique=True, sqlite_where=LIVE, postgresql_where=LIVE)

    op.create_table(
        "member_segments",
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("consumer_id", Id, nullable=False),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary_fen", sa.BigInteger(), nullable=False),
        sa.Column("r_score", sa.SmallInteger(), nullable=False),
        sa.Column("f_score", sa.SmallInteger(), nullable=False),
        sa.Column("m_score", sa.SmallInteger(), nullable=False),
        sa.Column("first_purchase_on", sa.Date(), nullable=False),
        sa.Column("last_purchase_on", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], ondelete="CASCADE",
                                name=op.f("fk_member_segments_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["consumer_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_member_segments_consumer_id_users")),
        sa.PrimaryKeyConstraint("merchant_id", "consumer_id", name=op.f("pk_member_segments")),
    )
    op.create_index(op.f("ix_member_segments_consumer_id"), "member_segments", ["consumer_id"])
    op.create_index(op.f("ix_member_segments_segment"), "member_segments", ["segment"])


def downgrade() -> None:
    op.drop_table("member_segments")
    op.drop_index("uq_merchant_consents_live", table_name="merchant_consents")
    op.drop_table("merchant_consents")
