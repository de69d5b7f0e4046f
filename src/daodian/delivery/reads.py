"""Deliveries and couriers as the API and the pages show them."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal
from daodian.accounts.models import User
from daodian.delivery import couriers as courier_service
from daodian.delivery.models import Courier, Delivery, DeliveryKind, DeliveryStatus
from daodian.delivery.schemas import BoardRead, ConsumerDeliveryRead, CourierRead, DeliveryRead, TimelineEntry
from daodian.geo.datum import Datum
from daodian.kit.clock import utcnow
from daodian.merchants.models import Store
from daodian.merchants.schemas import Location

S = DeliveryStatus
CARRYING = (S.ASSIGNED.value, S.AT_STORE.value, S.PICKED_UP.value)


def _location(lat: float | None, lng: float | None) -> Location | None:
    return None if lat is None or lng is None else Location(lat=lat, lng=lng, datum=Datum.WGS84)


def courier_read(session: Session, courier: Courier, carrying: int | None = None) -> CourierRead:
    if carrying is None:
        carrying = session.scalar(select(func.count()).select_from(Delivery)
                                  .where(Delivery.courier_id == courier.id, Delivery.status.in_(CARRYING)))
    user = session.get(User, courier.user_id)
    return CourierRead(id=courier.id, user_id=courier.user_id, display_name=user.display_name if user else "",
                       merchant_id=courier.merchant_id, provider=bool(courier.is_provider), online=courier.online,
                       on_duty=courier_service.on_duty(courier, utcnow()), capacity=courier.capacity,
                       speed_m_per_min=courier.speed_m_per_min, shift_ends_at=courier.shift_ends_at,
                       position=_location(courier.lat, courier.lng), position_at=courier.position_at,
                       carrying=carrying or 0)


def timeline(d: Delivery) -> list[TimelineEntry]:
    entries = [TimelineEntry(status="placed", at=d.placed_at, planned=False),
               TimelineEntry(status="ready", at=d.ready_at, planned=d.picked_up_at is None)]
    for status, at in (("assigned", d.assigned_at), ("at_store", d.arrived_at), ("picked_up", d.picked_up_at),
                       ("delivered", d.delivered_at), ("cancelled", d.cancelled_at)):
        if at is not None:
            entries.append(TimelineEntry(status=status, at=at, planned=False))
    if d.status in CARRYING and d.planned_dropoff_at is not None:
        entries.append(TimelineEntry(status="delivered", at=d.planned_dropoff_at, planned=True))
    return sorted(entries, key=lambda e: (e.at, e.planned))


def delivery_read(session: Session, d: Delivery, *, for_consumer: bool = False) -> DeliveryRead:
    store = session.get(Store, d.store_id)
    courier = session.get(Courier, d.courier_id) if d.courier_id is not None else None
    fields = dict(
        id=d.id, order_id=d.order_id, merchant_id=d.merchant_id, store_id=d.store_id, store_name=store.name,
        store_location=_location(store.lat, store.lng), dropoff=_location(d.dropoff_lat, d.dropoff_lng),
        kind=d.kind, status=d.status, courier=courier_read(session, courier) if courier else None, ready_at=d.ready_at,
        eta=d.planned_dropoff_at if d.status in CARRYING else None, timeline=timeline(d))
    if for_consumer:
        return ConsumerDeliveryRead(**fields, handover_code=d.handover_code if d.kind != DeliveryKind.VISIT else None)
    return DeliveryRead(**fields)


def read_for(session: Session, principal: Principal, delivery: Delivery) -> DeliveryRead:
    """The delivery as this caller may see it: the consumer who ordered also gets the handover code."""
    return delivery_read(session, delivery, for_consumer=principal.user_id == delivery.consumer_id)


def board_of(session: Session, merchant_id: int | None) -> BoardRead:
    """What a dispatch board shows: deliveries waiting and under way, and the fleet (a merchant's, or all)."""
    query = select(Delivery).where(Delivery.status.in_(
        [DeliveryStatus.WAITING, DeliveryStatus.ASSIGNED, DeliveryStatus.AT_STORE, DeliveryStatus.PICKED_UP]))
    if merchant_id is not None:
        query = query.where(Delivery.merchant_id == merchant_id)
    rows = list(session.scalars(query.order_by(Delivery.ready_at, Delivery.id).limit(500)))
    reads = [delivery_read(session, d) for d in rows]
    return BoardRead(waiting=[r for r in reads if r.status == DeliveryStatus.WAITING],
                     active=[r for r in reads if r.status != DeliveryStatus.WAITING],
                     couriers=[courier_read(session, c) for c in courier_service.fleet(session, merchant_id)])
