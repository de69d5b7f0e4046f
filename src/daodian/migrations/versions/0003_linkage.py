"""linkage: product category -> service category links (curated and mined)

Revision ID: 0003_linkage
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = '0003_linkage'
down_revision = '0002_nearby'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('category_links',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('product_category_id', BigId, nullable=False),
    sa.Column('service_category_id', BigId, nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('strength', sa.Float(), nullable=False),
    sa.Column('support', sa.Float(), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('lift', sa.Float(), nullable=True),
    sa.Column('pair_count', sa.BigInteger(), nullable=True),
    sa.Column('antecedent_count', sa.BigInteger(), nullable=True),
    sa.Column('consequent_count', sa.BigInteger(), nullable=True),
    sa.Column('window_days', sa.Integer(), nullable=True),
    sa.Column('mined_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', BigId, nullable=True),
    sa.Column('reviewed_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('strength >= 0 AND strength <= 1', name=op.f('ck_category_links_strength_range')),
    sa.CheckConstraint("source IN ('curated', 'mined')", name=op.f('ck_category_links_source_known')),
    sa.CheckConstraint("status IN ('candidate', 'live', 'rejected')", name=op.f('ck_category_links_status_known')),
    sa.ForeignKeyConstraint(['product_category_id'], ['product_categories.id'], name=op.f('fk_category_links_product_category_id_product_categories')),
    sa.ForeignKeyConstraint(['service_category_id'], ['service_categories.id'], name=op.f('fk_category_links_service_category_id_service_categories')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_category_links_reviewed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_links')),
    sa.UniqueConstraint('product_category_id', 'service_category_id', 'source', name='uq_category_links_pair_source')
    )
    with op.batch_alter_table('category_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_links_product_category_id'), ['product_category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_category_links_service_category_id'), ['service_category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_category_links_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_category_links_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('category_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_links_updated_at'))
        batch_op.drop_index(batch_op.f('ix_category_links_status'))
        batch_op.drop_index(batch_op.f('ix_category_links_service_category_id'))
        batch_op.drop_index(batch_op.f('ix_category_links_product_category_id'))
    op.drop_table('category_links')
