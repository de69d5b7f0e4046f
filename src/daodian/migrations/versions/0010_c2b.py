"""c2b: tiered group buys and pre-sales by vote

Revision ID: 0010_c2b
Revises: 0009_loyalty
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import daodian.kit.db  # noqa: F401

revision = "0010_c2b"
down_revision = "0009_loyalty"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # --- group buys (marketing.group_buy_models) ---
    op.create_table('group_buys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('service_item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('min_participants', sa.Integer(), nullable=False),
    sa.Column('starts_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('final_participants', sa.Integer(), nullable=True),
    sa.Column('final_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('settled_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('min_participants >= 1', name=op.f('ck_group_buys_min_participants_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_group_buys_created_by_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_group_buys_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['service_item_id'], ['service_items.id'], name=op.f('fk_group_buys_service_item_id_service_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_buys'))
    )
    op.create_index(op.f('ix_group_buys_ends_at'), 'group_buys', ['ends_at'], unique=False)
    op.create_index(op.f('ix_group_buys_merchant_id'), 'group_buys', ['merchant_id'], unique=False)
    op.create_index(op.f('ix_group_buys_status'), 'group_buys', ['status'], unique=False)
    op.create_table('group_buy_joins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('group_buy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_group_buy_joins_consumer_id_users')),
    sa.ForeignKeyConstraint(['group_buy_id'], ['group_buys.id'], name=op.f('fk_group_buy_joins_group_buy_id_group_buys')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_group_buy_joins_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_buy_joins')),
    sa.UniqueConstraint('group_buy_id', 'consumer_id', name=op.f('uq_group_buy_joins_group_buy_id_consumer_id')),
    sa.UniqueConstraint('order_id', name=op.f('uq_group_buy_joins_order_id'))
    )
    op.create_index(op.f('ix_group_buy_joins_consumer_id'), 'group_buy_joins', ['consumer_id'], unique=False)
    op.create_index(op.f('ix_group_buy_joins_group_buy_id'), 'group_buy_joins', ['group_buy_id'], unique=False)
    op.create_table('group_buy_settlements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('join_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('refund_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('settled_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['join_id'], ['group_buy_joins.id'], name=op.f('fk_group_buy_settlements_join_id_group_buy_joins')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_group_buy_settlements_refund_id_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_buy_settlements')),
    sa.UniqueConstraint('join_id', name=op.f('uq_group_buy_settlements_join_id'))
    )
    # --- pre-sales by vote (marketing.presale_models) ---
    op.create_table('presales',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('closes_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_presales_created_by_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_presales_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presales'))
    )
    op.create_index(op.f('ix_presales_closes_at'), 'presales', ['closes_at'], unique=False)
    op.create_index(op.f('ix_presales_merchant_id'), 'presales', ['merchant_id'], unique=False)
    op.create_index(op.f('ix_presales_status'), 'presales', ['status'], unique=False)
    op.create_table('presale_candidates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('presale_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('deposit_fen', sa.BigInteger(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=True),
    sa.CheckConstraint('deposit_fen > 0 AND deposit_fen < price_fen', name=op.f('ck_presale_candidates_deposit_below_price')),
    sa.CheckConstraint('threshold >= 1', name=op.f('ck_presale_candidates_threshold_positive')),
    sa.ForeignKeyConstraint(['presale_id'], ['presales.id'], name=op.f('fk_presale_candidates_presale_id_presales')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_presale_candidates_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presale_candidates'))
    )
    op.create_index(op.f('ix_presale_candidates_presale_id'), 'presale_candidates', ['presale_id'], unique=False)
    op.create_table('presale_votes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('candidate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('deposit_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('balance_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('refund_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['balance_order_id'], ['orders.id'], name=op.f('fk_presale_votes_balance_order_id_orders')),
    sa.ForeignKeyConstraint(['candidate_id'], ['presale_candidates.id'], name=op.f('fk_presale_votes_candidate_id_presale_candidates')),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_presale_votes_consumer_id_users')),
    sa.ForeignKeyConstraint(['deposit_order_id'], ['orders.id'], name=op.f('fk_presale_votes_deposit_order_id_orders')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_presale_votes_refund_id_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presale_votes')),
    sa.UniqueConstraint('balance_order_id', name=op.f('uq_presale_votes_balance_order_id')),
    sa.UniqueConstraint('candidate_id', 'consumer_id', name=op.f('uq_presale_votes_candidate_id_consumer_id')),
    sa.UniqueConstraint('deposit_order_id', name=op.f('uq_presale_votes_deposit_order_id'))
    )
    op.create_index(op.f('ix_presale_votes_candidate_id'), 'presale_votes', ['candidate_id'], unique=False)
    op.create_index(op.f('ix_presale_votes_consumer_id'), 'presale_votes', ['consumer_id'], unique=False)
    # --- post campaigns (marketing.models.Campaign.post_id: a campaign sends a coupon or a post) ---
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.alter_column('template_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_campaigns_post_id_merchant_posts'), 'merchant_posts',
                                    ['post_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    # --- pre-sales ---
    op.drop_table('presale_votes')
    op.drop_table('presale_candidates')
    op.drop_table('presales')
    # --- group buys ---
    op.drop_table('group_buy_settlements')
    op.drop_table('group_buy_joins')
    op.drop_table('group_buys')
    # --- post campaigns (marketing.models.Campaign.post_id) ---
    op.execute("DELETE FROM post_recipients")
    op.execute("DELETE FROM campaigns WHERE template_id IS NULL")
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaigns_post_id_merchant_posts'), type_='foreignkey')
        batch_op.alter_column('template_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=False)
        batch_op.drop_column('post_id')
