from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class OrderKind(StrEnum):
    PRODUCT = "product"  # SKUs, delivered or picked up at a store
    SERVICE = "service"  # service items, paid for with vouchers redeemed at a store


class OrderStatus(StrEnum):  # the transitions are in orders.states
    CREATED = "created"
    PAID = "paid"
    FULFILLED = "fulfilled"
    VOUCHER_ISSUED = "voucher_issued"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class Fulfilment(StrEnum):
    DELIVERY = "delivery"
    PICKUP = "pickup"
    AT_STORE = "at_store"  # service orders: consumed at a store against a voucher
    AT_HOME = "at_home"  # service orders of at-home items: a provider comes to the address (daodian.delivery)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_fen >= 0", name="total_not_negative"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refunds_within_paid"),
    )

    id: Mapped[IdPk]
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    kind: Mapped[OrderKind] = mapped_column(String(16))
    status: Mapped[OrderStatus] = mapped_column(String(16), index=True)
    fulfilment: Mapped[Fulfilment] = mapped_column(String(16))
    store_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stores.id"))  # pickup / intended store
    delivery_address: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")
    total_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # refunds succeeded or under way
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # coupons (checkout_discounts)
    points_spent: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # 1 point = 1 fen off
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # unpaid orders expire then
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # cancelled, expired, completed or refunded
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderLine(Base):
    """One line, with the name and unit price as they were when the order was placed."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[IdPk]
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    service_item_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("service_items.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # coupons + points share
    sessions: Mapped[int] = mapped_column(Integer, default=1)  # uses per voucher (service lines)


