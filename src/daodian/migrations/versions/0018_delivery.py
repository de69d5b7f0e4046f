"""couriers, their positions, deliveries and their assignments to couriers

Revision ID: 0018_delivery
Revises: 0017_webhooks
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0018_delivery"
down_revision = "0017_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('couriers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('speed_m_per_min', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('shift_ends_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('position_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity BETWEEN 1 AND 20', name=op.f('ck_couriers_capacity_range')),
    sa.CheckConstraint('speed_m_per_min BETWEEN 30 AND 2000', name=op.f('ck_couriers_speed_range')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_couriers_merchant_id_merchants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_couriers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_couriers')),
    sa.UniqueConstraint('user_id', name=op.f('uq_couriers_user_id'))
    )
    op.create_index(op.f('ix_couriers_merchant_id'), 'couriers', ['merchant_id'], unique=False)
    op.create_table('courier_positions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('courier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('input_lat', sa.Float(), nullable=False),
    sa.Column('input_lng', sa.Float(), nullable=False),
    sa.Column('input_datum', sa.String(length=8), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('recorded_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['courier_id'], ['couriers.id'], name=op.f('fk_courier_positions_courier_id_couriers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courier_positions'))
    )
    op.create_index('ix_courier_positions_courier_time', 'courier_positions', ['courier_id', 'recorded_at'], unique=False)
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dropoff_lat', sa.Float(), nullable=False),
    sa.Column('dropoff_lng', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('handover_code', sa.String(length=8), nullable=False),
    sa.Column('placed_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ready_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('courier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('planned_pickup_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('planned_dropoff_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assigned_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('picked_up_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_deliveries_consumer_id_users')),
    sa.ForeignKeyConstraint(['courier_id'], ['couriers.id'], name=op.f('fk_deliveries_courier_id_couriers')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_deliveries_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_deliveries_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_deliveries_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('order_id', name=op.f('uq_deliveries_order_id'))
    )
    op.create_index(op.f('ix_deliveries_consumer_id'), 'deliveries', ['consumer_id'], unique=False)
    op.create_index(op.f('ix_deliveries_courier_id'), 'deliveries', ['courier_id'], unique=False)
    op.create_index(op.f('ix_deliveries_merchant_id'), 'deliveries', ['merchant_id'], unique=False)
    op.create_index(op.f('ix_deliveries_status'), 'deliveries', ['status'], unique=False)
    op.create_index(op.f('ix_deliveries_store_id'), 'deliveries', ['store_id'], unique=False)
    op.create_table('delivery_assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('courier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('route_key', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('policy', sa.String(length=16), nullable=False),
    sa.Column('assigned_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assigned_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', daodian.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by'], ['users.id'], name=op.f('fk_delivery_assignments_assigned_by_users')),
    sa.ForeignKeyConstraint(['courier_id'], ['couriers.id'], name=op.f('fk_delivery_assignments_courier_id_couriers')),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_assignments_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_assignments'))
    )
    op.create_index(op.f('ix_delivery_assignments_courier_id'), 'delivery_assignments', ['courier_id'], unique=False)
    op.create_index(op.f('ix_delivery_assignments_delivery_id'), 'delivery_assignments', ['delivery_id'], unique=False)
    op.create_index('uq_delivery_assignments_live', 'delivery_assignments', ['delivery_id'], unique=True, sqlite_where=sa.text('released_at IS NULL'), postgresql_where=sa.text('released_at IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_delivery_assignments_live', table_name='delivery_assignments', sqlite_where=sa.text('released_at IS NULL'), postgresql_where=sa.text('released_at IS NULL'))
    op.drop_index(op.f('ix_delivery_assignments_delivery_id'), table_name='delivery_assignments')
    op.drop_index(op.f('ix_delivery_assignments_courier_id'), table_name='delivery_assignments')
    op.drop_table('delivery_assignments')
    op.drop_index(op.f('ix_deliveries_store_id'), table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_status'), table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_merchant_id'), table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_courier_id'), table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_consumer_id'), table_name='deliveries')
    op.drop_table('deliveries')
    op.drop_index('ix_courier_positions_courier_time', table_name='courier_positions')
    op.drop_table('courier_positions')
    op.drop_index(op.f('ix_couriers_merchant_id'), table_name='couriers')
    op.drop_table('couriers')
