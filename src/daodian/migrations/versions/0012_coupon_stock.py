"""coupon stock in slots: the template's one counter becomes rows parallel claims lock apart

Revision ID: 0012_coupon_stock
Revises: 0011_checkout
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db  # noqa: F401

revision = "0012_coupon_stock"
down_revision = "0011_checkout"
branch_labels = None
depends_on = None

SLOTS = 16  # as marketing.stock.SLOTS when this was written


def upgrade() -> None:
    op.create_table('coupon_stock',
    sa.Column('template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slot', sa.SmallInteger(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.CheckConstraint('remaining >= 0', name=op.f('ck_coupon_stock_remaining_not_negative')),
    sa.ForeignKeyConstraint(['template_id'], ['coupon_templates.id'], name=op.f('fk_coupon_stock_template_id_coupon_templates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('template_id', 'slot', name=op.f('pk_coupon_stock'))
    )
    bind = op.get_bind()
    templates = bind.execute(sa.text("SELECT id, remaining FROM coupon_templates")).all()
    stock = sa.table("coupon_stock", sa.column("template_id"), sa.column("slot"), sa.column("remaining"))
    rows = []
    for template_id, remaining in templates:
        slots = max(1, min(SLOTS, remaining))
        share, extra = divmod(remaining, slots)
        rows += [{"template_id": template_id, "slot": s, "remaining": share + (1 if s < extra else 0)}
                 for s in range(slots)]
    if rows:
        op.bulk_insert(stock, rows)
    with op.batch_alter_table('coupon_templates') as batch:  # SQLite: copied, keys checked at the end
        batch.drop_constraint(op.f('ck_coupon_templates_remaining_within_total'), type_='check')
        batch.drop_column('remaining')


def downgrade() -> None:
    with op.batch_alter_table('coupon_templates') as batch:
        batch.add_column(sa.Column('remaining', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE coupon_templates SET remaining = (SELECT coalesce(sum(remaining), 0) FROM coupon_stock "
               "WHERE coupon_stock.template_id = coupon_templates.id)")
    with op.batch_alter_table('coupon_templates') as batch:
        batch.create_check_constraint(op.f('ck_coupon_templates_remaining_within_total'), 'remaining >= 0 AND remaining <= total_quantity')
    op.drop_table('coupon_stock')

