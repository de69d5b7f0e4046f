"""loyalty: member tiers, follows, merchant posts, earning rules

Revision ID: 0009_loyalty
Revises: 0008_marketing
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db  # noqa: F401

revision = "0009_loyalty"
down_revision = "0008_marketing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('follows',
    sa.Column('consumer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_follows_consumer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_follows_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('consumer_id', 'merchant_id', name=op.f('pk_follows'))
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follows_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('member_tiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('min_spend_fen', sa.BigInteger(), nullable=False),
    sa.Column('min_points', sa.BigInteger(), nullable=True),
    sa.Column('discount_percent', sa.Integer(), nullable=False),
    sa.Column('points_multiplier_pct', sa.Integer(), nullable=False),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('discount_percent >= 0 AND discount_percent <= 50', name=op.f('ck_member_tiers_discount_range')),
    sa.CheckConstraint('points_multiplier_pct >= 100 AND points_multiplier_pct <= 1000', name=op.f('ck_member_tiers_multiplier_range')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_member_tiers_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_tiers')),
    sa.UniqueConstraint('scope', 'name', name=op.f('uq_member_tiers_scope_name')),
    sa.UniqueConstraint('scope', 'rank', name=op.f('uq_member_tiers_scope_rank'))
    )
    with op.batch_alter_table('member_tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_tiers_scope'), ['scope'], unique=False)

    op.create_table('points_rules',
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points_per_yuan', sa.Integer(), nullable=False),
    sa.Column('updated_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points_per_yuan >= 0', name=op.f('ck_points_rules_rate_not_negative')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_points_rules_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_points_rules'))
    )
    op.create_table('memberships',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('consumer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('since', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tier_since', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rolling_spend_fen', sa.BigInteger(), nullable=False),
    sa.Column('last_evaluated_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_memberships_consumer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_memberships_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['tier_id'], ['member_tiers.id'], name=op.f('fk_memberships_tier_id_member_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('consumer_id', 'scope', name=op.f('uq_memberships_consumer_id_scope'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_consumer_id'), ['consumer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_scope'), ['scope'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_tier_id'), ['tier_id'], unique=False)

    op.create_table('merchant_posts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('body', sa.String(length=2000), nullable=False),
    sa.Column('members_only', sa.Boolean(), nullable=False),
    sa.Column('min_tier_rank', sa.Integer(), nullable=True),
    sa.Column('coupon_template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('targeted', sa.Boolean(), nullable=False),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_merchant_posts_author_id_users')),
    sa.ForeignKeyConstraint(['coupon_template_id'], ['coupon_templates.id'], name=op.f('fk_merchant_posts_coupon_template_id_coupon_templates')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_posts_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_posts'))
    )
    with op.batch_alter_table('merchant_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_posts_coupon_template_id'), ['coupon_template_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_merchant_posts_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('post_recipients',
    sa.Column('post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_post_recipients_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_post_recipients_consumer_id_users')),
    sa.ForeignKeyConstraint(['post_id'], ['merchant_posts.id'], name=op.f('fk_post_recipients_post_id_merchant_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'consumer_id', name=op.f('pk_post_recipients'))
    )
    op.create_index(op.f('ix_post_recipients_consumer_id'), 'post_recipients', ['consumer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_post_recipients_consumer_id'), table_name='post_recipients')
    op.drop_table('post_recipients')
    with op.batch_alter_table('merchant_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchant_posts_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_merchant_posts_coupon_template_id'))

    op.drop_table('merchant_posts')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_tier_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_scope'))
        batch_op.drop_index(batch_op.f('ix_memberships_consumer_id'))

    op.drop_table('memberships')
    op.drop_table('points_rules')
    with op.batch_alter_table('member_tiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_tiers_scope'))

    op.drop_table('member_tiers')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follows_merchant_id'))

    op.drop_table('follows')
