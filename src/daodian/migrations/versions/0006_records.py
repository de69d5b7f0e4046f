"""records: consumption records and lines, reviews, member codes, booking slots and bookings

Revision ID: 0006_records
Revises: 0005_orders

Records and bookings point at the orders domain's vouchers, orders and verifications (0005) by foreign key.
"""

import sqlalchemy as sa
from alembic import op

import daodian.kit.db

revision = "0006_records"
down_revision = "0005_orders"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = daodian.kit.db.UTCDateTime(timezone=True)
ACTIVE = sa.text("status = 'booked'")


def _fk(table: str, column: str, target: str, **kw) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), **kw)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_code", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_member_code"), ["member_code"], unique=True)

    op.create_table(
        "consumption_records",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("store_id", Id, nullable=False),
        sa.Column("receipt_id", sa.String(length=64), nullable=False),
        sa.Column("consumer_id", Id, nullable=True),
        sa.Column("identified_by", sa.String(length=16), nullable=False),
        sa.Column("voucher_id", Id, nullable=True),
        sa.Column("recorded_by", Id, nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("occurred_at", Moment, nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.CheckConstraint("total_fen >= 0", name=op.f("ck_consumption_records_total_not_negative")),
        _fk("consumption_records", "merchant_id", "merchants"),
        _fk("consumption_records", "store_id", "stores"),
        _fk("consumption_records", "consumer_id", "users"),
        _fk("consumption_records", "voucher_id", "vouchers"),
        _fk("consumption_records", "recorded_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumption_records")),
        sa.UniqueConstraint("merchant_id", "receipt_id", name=op.f("uq_consumption_records_merchant_id_receipt_id")),
    )
    op.create_index(op.f("ix_consumption_records_store_id"), "consumption_records", ["store_id"])
    op.create_index(op.f("ix_consumption_records_consumer_id"), "consumption_records", ["consumer_id"])

    op.create_table(
        "consumption_lines",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku_id", Id, nullable=True),
        sa.Column("service_item_id", Id, nullable=True),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_consumption_lines_quantity_positive")),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_consumption_lines_amount_not_negative")),
        sa.CheckConstraint("(sku_id IS NULL) <> (service_item_id IS NULL)",
                           name=op.f("ck_consumption_lines_one_subject")),
        _fk("consumption_lines", "record_id", "consumption_records", ondelete="CASCADE"),
        _fk("consumption_lines", "sku_id", "skus"),
        _fk("consumption_lines", "service_item_id", "service_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumption_lines")),
    )
    for column in ("record_id", "sku_id", "service_item_id"):
        op.create_index(op.f(f"ix_consumption_lines_{column}"), "consumption_lines", [column])

    op.create_table(
        "reviews",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("consumer_id", Id, nullable=False),
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("store_id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=True),
        sa.Column("verification_id", Id, nullable=True),
        sa.Column("rating_experience", sa.SmallInteger(), nullable=False),
        sa.Column("rating_service", sa.SmallInteger(), nullable=False),
        sa.Column("rating_product", sa.SmallInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merchant_reply", sa.Text(), nullable=True),
        sa.Column("replied_at", Moment, nullable=True),
        sa.Column("replied_by", Id, nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.CheckConstraint("(record_id IS NULL) <> (verification_id IS NULL)", name=op.f("ck_reviews_one_basis")),
        sa.CheckConstraint("rating_experience BETWEEN 1 AND 5", name=op.f("ck_reviews_experience_range")),
        sa.CheckConstraint("rating_service BETWEEN 1 AND 5", name=op.f("ck_reviews_service_range")),
        sa.CheckConstraint("rating_product IS NULL OR rating_product BETWEEN 1 AND 5",
                           name=op.f("ck_reviews_product_range")),
        _fk("reviews", "consumer_id", "users"),
        _fk("reviews", "merchant_id", "merchants"),
        _fk("reviews", "store_id", "stores"),
        _fk("reviews", "record_id", "consumption_records"),
        _fk("reviews", "verification_id", "verifications"),
        _fk("reviews", "replied_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("record_id", name=op.f("uq_reviews_record_id")),
        sa.UniqueConstraint("verification_id", name=op.f("uq_reviews_verification_id")),
    )
    for column in ("consumer_id", "merchant_id", "store_id"):
        op.create_index(op.f(f"ix_reviews_{column}"), "reviews", [column])

    op.create_table(
        "booking_slots",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("store_id", Id, nullable=False),
        sa.Column("service_item_id", Id, nullable=False),
        sa.Column("starts_at", Moment, nullable=False),
        sa.Column("ends_at", Moment, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_booking_slots_capacity_positive")),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name=op.f("ck_booking_slots_booked_within_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_booking_slots_ends_after_start")),
        _fk("booking_slots", "merchant_id", "merchants"),
        _fk("booking_slots", "store_id", "stores"),
        _fk("booking_slots", "service_item_id", "service_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_slots")),
        sa.UniqueConstraint("store_id", "service_item_id", "starts_at",
                            name=op.f("uq_booking_slots_store_id_service_item_id_starts_at")),
    )
    for column in ("merchant_id", "service_item_id", "starts_at"):
        op.create_index(op.f(f"ix_booking_slots_{column}"), "booking_slots", [column])

    op.create_table(
        "bookings",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("slot_id", Id, nullable=False),
        sa.Column("consumer_id", Id, nullable=False),
        sa.Column("merchant_id", Id, nullable=False),
        sa.Column("store_id", Id, nullable=False),
        sa.Column("service_item_id", Id, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment", sa.String(length=16), nullable=False),
        sa.Column("voucher_id", Id, nullable=True),
        sa.Column("order_id", Id, nullable=True),
        sa.Column("cancelled_at", Moment, nullable=True),
        sa.Column("cancelled_by", Id, nullable=True),
        sa.Column("cancel_reason", sa.String(length=16), nullable=True),
        sa.Column("marked_at", Moment, nullable=True),
        sa.Column("marked_by", Id, nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        _fk("bookings", "slot_id", "booking_slots"),
        _fk("bookings", "consumer_id", "users"),
        _fk("bookings", "merchant_id", "merchants"),
        _fk("bookings", "store_id", "stores"),
        _fk("bookings", "service_item_id", "service_items"),
        _fk("bookings", "cancelled_by", "users"),
        _fk("bookings", "marked_by", "users"),
        _fk("bookings", "voucher_id", "vouchers"),
        _fk("bookings", "order_id", "orders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    for column in ("slot_id", "consumer_id", "store_id", "order_id"):
        op.create_index(op.f(f"ix_bookings_{column}"), "bookings", [column])
    op.create_index("uq_bookings_slot_consumer_active", "bookings", ["slot_id", "consumer_id"], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index("uq_bookings_voucher_active", "bookings", ["voucher_id"], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_table("bookings")
    op.drop_table("booking_slots")
    op.drop_table("reviews")
    op.drop_table("consumption_lines")
    op.drop_table("consumption_records")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_member_code"))
        batch_op.drop_column("member_code")
