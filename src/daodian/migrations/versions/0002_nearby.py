"""nearby: store popularity, paid store promotions, merchants.updated_at index

Revision ID: 0002_nearby
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = '0002_nearby'
down_revision = '0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('popularity', sa.Integer(), server_default='0', nullable=False))

    # App processes poll merchants.updated_at (a suspended merchant's stores leave nearby results).
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchants_updated_at'), ['updated_at'], unique=False)

    op.create_table('store_promotions',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('store_id', BigId, nullable=False),
    sa.Column('starts_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.Column('created_by', BigId, nullable=False),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_store_promotions_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_store_promotions_created_by_users')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_store_promotions_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_promotions'))
    )
    with op.batch_alter_table('store_promotions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_store_promotions_store_id'), ['store_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('store_promotions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_store_promotions_store_id'))

    op.drop_table('store_promotions')
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchants_updated_at'))

    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('popularity')
