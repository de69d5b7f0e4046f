"""Bookable time slots of a service item at a store, and the consumers' bookings of them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class SlotStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"  # withdrawn by the store; its bookings were cancelled with it


class BookingStatus(StrEnum):
    BOOKED = "booked"  # holds one place of the slot
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class BookingPayment(StrEnum):
    VOUCHER = "voucher"  # a voucher of theirs for the item; verifying it at the counter consumes it
    PAY_ONLINE = "pay_online"  # pay when booking, through an order
    PAY_AT_STORE = "pay_at_store"  # settled at the counter (and recorded as a consumption record)


class BookingSlot(Base):
    __tablename__ = "booking_slots"
    __table_args__ = (
        UniqueConstraint("store_id", "service_item_id", "starts_at"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        # The database itself refuses overbooking, whatever the code above it does.
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[IdPk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"))
    service_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_items.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)  # places held by bookings in status booked/attended/no_show
    status: Mapped[SlotStatus] = mapped_column(String(16), default=SlotStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


_ACTIVE = text("status = 'booked'")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # One live booking per consumer and slot (a retry finds it), and a voucher backs one live booking.
        Index("uq_bookings_slot_consumer_active", "slot_id", "consumer_id", unique=True,
              sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
        Index("uq_bookings_voucher_active", "voucher_id", unique=True, sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
    )

    id: Mapped[IdPk]
    slot_id: Mapped[int] = mapped_column(BigId, ForeignKey("booking_slots.id"), index=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"))
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    service_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_items.id"))
    status: Mapped[BookingStatus] = mapped_column(String(16), default=BookingStatus.BOOKED)
    payment: Mapped[BookingPayment] = mapped_column(String(16))
    voucher_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("vouchers.id"))  # voucher, or pay_online once paid
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), index=True)  # pay_online's order
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(16))  # consumer | staff | slot_cancelled
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # attended / no_show
    marked_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
