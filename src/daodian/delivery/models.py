"""Couriers, where they are, the deliveries they carry and every assignment of a delivery to a courier."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class Courier(Base):
    """A user who carries orders: the platform's fleet (merchant_id NULL) or one merchant's own riders."""

    __tablename__ = "couriers"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 20", name="capacity_range"),
        CheckConstraint("speed_m_per_min BETWEEN 30 AND 2000", name="speed_range"),
    )

    id: Mapped[IdPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    speed_m_per_min: Mapped[int] = mapped_column(Integer, default=250)  # ~15 km/h: an e-bike in city traffic
    capacity: Mapped[int] = mapped_column(Integer, default=4)  # orders in one bag
    # A provider (上门服务 technician) is sent on visits to consumers' addresses, never with food; a courier
    # (False) carries deliveries, never visits (delivery.couriers.fits).
    is_provider: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    shift_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # no new route after this
    lat: Mapped[float | None] = mapped_column(Float)  # last accepted position, WGS-84
    lng: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourierPosition(Base):
    """One accepted position report, kept as the browser gave it (with its datum) and as WGS-84."""

    __tablename__ = "courier_positions"

    id: Mapped[IdPk]
    courier_id: Mapped[int] = mapped_column(BigId, ForeignKey("couriers.id", ondelete="CASCADE"))
    lat: Mapped[float] = mapped_column(Float)  # WGS-84
    lng: Mapped[float] = mapped_column(Float)
    input_lat: Mapped[float] = mapped_column(Float)
    input_lng: Mapped[float] = mapped_column(Float)
    input_datum: Mapped[str] = mapped_column(String(8))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_courier_positions_courier_time", CourierPosition.courier_id, CourierPosition.recorded_at)


class DeliveryStatus(StrEnum):  # the transitions are in delivery.states
    WAITING = "waiting"  # paid, no courier yet
    ASSIGNED = "assigned"  # a courier is on the way to the store
    AT_STORE = "at_store"  # the courier said it arrived
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"  # handed over with the consumer's code
    CANCELLED = "cancelled"  # the order was refunded before pickup


class DeliveryKind(StrEnum):
    DELIVERY = "delivery"  # a courier carries a product order from the store to the door
    VISIT = "visit"  # a provider goes from the store to the door to do an at-home service; done with the voucher


class Delivery(Base):
    """Carrying one paid delivery order from a store of its merchant to the consumer's door, or (kind `visit`)
    sending a provider from the store to the consumer's address for an at-home service item."""

    __tablename__ = "deliveries"

    id: Mapped[IdPk]
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    dropoff_lat: Mapped[float] = mapped_column(Float)  # WGS-84
    dropoff_lng: Mapped[float] = mapped_column(Float)
    kind: Mapped[DeliveryKind] = mapped_column(String(16), default=DeliveryKind.DELIVERY.value,
                                               server_default=DeliveryKind.DELIVERY.value)
    status: Mapped[DeliveryStatus] = mapped_column(String(16), index=True)
    handover_code: Mapped[str] = mapped_column(String(8))  # the consumer shows it at the door
    handover_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # wrong codes typed
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # paid: the click of click-to-door
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the store's estimate
    courier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("couriers.id"), index=True)
    planned_pickup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_dropoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the ETA shown to the consumer
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


LIVE = text("released_at IS NULL")


class DeliveryAssignment(Base):
    """A delivery given to a courier, by the dispatcher or by hand. Releasing is explicit and kept: at most one
    live (unreleased) assignment per delivery, enforced by a partial unique index, so two dispatch cycles or two
    couriers accepting at once cannot both win."""

    __tablename__ = "delivery_assignments"

    id: Mapped[IdPk]
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    courier_id: Mapped[int] = mapped_column(BigId, ForeignKey("couriers.id"), index=True)
    route_key: Mapped[str] = mapped_column(String(32))  # the engine's assignment id: one route, several deliveries
    position: Mapped[int] = mapped_column(Integer)  # pickup and drop-off order within the route
    policy: Mapped[str] = mapped_column(String(16))  # optimised | greedy | manual | accepted
    assigned_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))  # manual overrides
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(String(200))


Index("uq_delivery_assignments_live", DeliveryAssignment.delivery_id, unique=True,
      sqlite_where=LIVE, postgresql_where=LIVE)
