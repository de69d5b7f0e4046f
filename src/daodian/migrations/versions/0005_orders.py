"""orders: orders and lines, vouchers and verifications, payments, refunds, provider notifications,
idempotency keys; SKU stock and service-item sessions

Revision ID: 0005_orders
Revises: 0004_facts
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0005_orders"
down_revision = "0004_facts"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = daodian.kit.db.UTCDateTime(timezone=True)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str, **kwargs) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), **kwargs)


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def upgrade() -> None:
    # SQLite adds a column with its CHECK in place; a batch rebuild of `skus` would trip other tables' FKs.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE skus ADD COLUMN stock INTEGER "
                   "CONSTRAINT ck_skus_stock_not_negative CHECK (stock IS NULL OR stock >= 0)")
    else:
        op.add_column("skus", sa.Column("stock", sa.Integer(), nullable=True))
        op.create_check_constraint(op.f("ck_skus_stock_not_negative"), "skus", "stock IS NULL OR stock >= 0")
    op.add_column("service_items", sa.Column("sessions", sa.Integer(), server_default="1", nullable=False))

    op.create_table(
        "idempotency_keys",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("lease", sa.String(length=32), nullable=True),
        sa.Column("locked_at", When, nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("completed_at", When, nullable=True),
        _pk("idempotency_keys"),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )
    _indexes("idempotency_keys", "created_at")

    op.create_table(
        "orders",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("consumer_id", Id, nullable=False),
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fulfilment", sa.String(length=16), nullable=False),
        sa.Column("store_id", Id, nullable=True),
        sa.Column("delivery_address", sa.JSON(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("paid_at", When, nullable=True),
        sa.Column("closed_at", When, nullable=True),
        sa.Column("updated_at", When, nullable=False),
        sa.CheckConstraint("total_fen >= 0", name=op.f("ck_orders_total_not_negative")),
        sa.CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name=op.f("ck_orders_refunds_within_paid")),
        _fk("orders", "consumer_id", "users"),
        _fk("orders", "merchant_id", "merchants"),
        _fk("orders", "store_id", "stores"),
        _pk("orders"),
    )
    _indexes("orders", "consumer_id", "merchant_id", "status", "expires_at")

    op.create_table(
        "order_lines",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("sku_id", Id, nullable=True),
        sa.Column("service_item_id", Id, nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        _fk("order_lines", "order_id", "orders", ondelete="CASCADE"),
        _fk("order_lines", "sku_id", "skus"),
        _fk("order_lines", "service_item_id", "service_items"),
        _pk("order_lines"),
    )
    _indexes("order_lines", "order_id", "sku_id", "service_item_id")

    op.create_table(
        "vouchers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("order_line_id", Id, nullable=False),
        sa.Column("consumer_id", Id, nullable=False),
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("service_item_id", Id, nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("uses_total", sa.Integer(), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("refunded_uses", sa.Integer(), nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.CheckConstraint("uses_left >= 0", name=op.f("ck_vouchers_uses_left_not_negative")),
        sa.CheckConstraint("refunded_uses >= 0 AND uses_left + refunded_uses <= uses_total",
                           name=op.f("ck_vouchers_uses_add_up")),
        _fk("vouchers", "order_id", "orders"),
        _fk("vouchers", "order_line_id", "order_lines"),
        _fk("vouchers", "consumer_id", "users"),
        _fk("vouchers", "merchant_id", "merchants"),
        _fk("vouchers", "service_item_id", "service_items"),
        _pk("vouchers"),
        sa.UniqueConstraint("code", name=op.f("uq_vouchers_code")),
    )
    _indexes("vouchers", "order_id", "consumer_id", "merchant_id")

    op.create_table(
        "verifications",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("voucher_id", Id, nullable=False),
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("store_id", Id, nullable=False),
        sa.Column("staff_user_id", Id, nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=True),
        sa.Column("verified_at", When, nullable=False),
        sa.Column("reversed_at", When, nullable=True),
        sa.Column("reversed_by", Id, nullable=True),
        _fk("verifications", "voucher_id", "vouchers"),
        _fk("verifications", "merchant_id", "merchants"),
        _fk("verifications", "store_id", "stores"),
        _fk("verifications", "staff_user_id", "users"),
        _fk("verifications", "reversed_by", "users"),
        _pk("verifications"),
    )
    _indexes("verifications", "voucher_id", "merchant_id", "store_id")

    op.create_table(
        "verification_failures",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("terminal", sa.String(length=96), nullable=False),
        sa.Column("attempted_at", When, nullable=False),
        _pk("verification_failures"),
    )
    _indexes("verification_failures", "terminal", "attempted_at")

    op.create_table(
        "payments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("provider_trade_no", sa.String(length=64), nullable=True),
        sa.Column("pay_url", sa.String(length=2048), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_by", Id, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("succeeded_at", When, nullable=True),
        sa.Column("updated_at", When, nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen",
                           name=op.f("ck_payments_refunds_within_amount")),
        _fk("payments", "order_id", "orders"),
        _fk("payments", "created_by", "users"),
        _pk("payments"),
        sa.UniqueConstraint("out_trade_no", name=op.f("uq_payments_out_trade_no")),
    )
    _indexes("payments", "order_id")

    op.create_table(
        "refunds",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("payment_id", Id, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("voided_uses", sa.JSON(), nullable=False),
        sa.Column("out_refund_no", sa.String(length=32), nullable=False),
        sa.Column("provider_refund_no", sa.String(length=64), nullable=True),
        sa.Column("failure", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key_id", Id, nullable=True),
        sa.Column("requested_by", Id, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("completed_at", When, nullable=True),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_refunds_amount_positive")),
        _fk("refunds", "order_id", "orders"),
        _fk("refunds", "payment_id", "payments"),
        _fk("refunds", "requested_by", "users"),
        _pk("refunds"),
        sa.UniqueConstraint("out_refund_no", name=op.f("uq_refunds_out_refund_no")),
    )
    _indexes("refunds", "order_id", "payment_id", "idempotency_key_id")

    op.create_table(
        "provider_notifications",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("notify_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", When, nullable=False),
        _pk("provider_notifications"),
        sa.UniqueConstraint("provider", "notify_id", name=op.f("uq_provider_notifications_provider_notify_id")),
    )


def downgrade() -> None:
    for table in ("provider_notifications", "refunds", "payments", "verification_failures", "verifications",
                  "vouchers", "order_lines", "orders", "idempotency_keys"):
        op.drop_table(table)
    with op.batch_alter_table("service_items") as batch_op:
        batch_op.drop_column("sessions")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE skus DROP COLUMN stock")  # SQLite >= 3.35; the column's CHECK goes with it
    else:
        op.drop_constraint(op.f("ck_skus_stock_not_negative"), "skus", type_="check")
        op.drop_column("skus", "stock")
