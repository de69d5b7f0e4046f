"""Deliveries: made when a delivery order is paid, carried through arrive -> pick up -> hand over.

Who may do what: the courier assigned does the steps; the consumer who ordered reads the delivery (with its
handover code); the merchant's staff read it and mark it ready; operators see everything. Anyone else gets the
same 404 as for a delivery that does not exist.
"""

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, require_login
from daodian.delivery import couriers
from daodian.delivery.errors import (
    AlreadyTaken,
    CourierOffline,
    CourierRoleMismatch,
    DeliveryNotFound,
    HandoverLocked,
    NoStoreToDeliverFrom,
    NotReadyYet,
    WrongDeliveryState,
    WrongHandoverCode,
)
from daodian.delivery.models import Courier, Delivery, DeliveryAssignment, DeliveryKind, DeliveryStatus
from daodian.delivery.states import move
from daodian.geo.datum import to_wgs84
from daodian.geo.distance import haversine_m
from daodian.kit.clock import utcnow
from daodian.kit.facts import append_fact
from daodian.merchants.models import Store, StoreItem, StoreStatus
from daodian.orders import repository as orders_repository
from daodian.orders.models import Fulfilment, Order

PREPARATION = timedelta(minutes=10)  # the store's default estimate; staff mark an order ready sooner or later
MAX_HANDOVER_FAILURES = 5  # wrong handover codes per delivery; then a fresh code (delivery.handover) is needed
S = DeliveryStatus


def fact(session: Session, kind: str, delivery: Delivery, **extra) -> None:
    append_fact(session, kind, {"delivery_id": delivery.id, "order_id": delivery.order_id, **extra},
                merchant_id=delivery.merchant_id, store_id=delivery.store_id, consumer_id=delivery.consumer_id)


def open_for_order(session: Session, order: Order, paid_at: datetime) -> Delivery | None:
    """The delivery of a paid order sent by courier, made once (a retried payment finds it). Orders for delivery
    without a located door are left to the merchant's own means, as before couriers existed. An at-home service
    order opens a visit: a provider leaves from the nearest store offering its items, nothing to wait for."""
    if order.fulfilment not in (Fulfilment.DELIVERY, Fulfilment.AT_HOME):
        return None
    visit = order.fulfilment == Fulfilment.AT_HOME
    location = (order.delivery_address or {}).get("location")
    if not location:
        return None
    existing = session.scalar(select(Delivery).where(Delivery.order_id == order.id))
    if existing is not None:
        return existing
    lat, lng = to_wgs84(location["lat"], location["lng"], location["datum"])
    item_ids = None
    if visit:
        item_ids = {ln.service_item_id for ln in orders_repository.lines_by_order(session, [order.id])[order.id]}
    store = nearest_store(session, order.merchant_id, lat, lng, offering=item_ids)
    delivery = Delivery(order_id=order.id, merchant_id=order.merchant_id, store_id=store.id,
                        consumer_id=order.consumer_id, dropoff_lat=lat, dropoff_lng=lng, status=S.WAITING.value,
                        kind=(DeliveryKind.VISIT if visit else DeliveryKind.DELIVERY).value,
                        handover_code=f"{secrets.randbelow(10**6):06d}", placed_at=paid_at,
                        ready_at=paid_at if visit else paid_at + PREPARATION)
    session.add(delivery)
    session.flush()
    fact(session, "delivery.opened", delivery, delivery_kind=delivery.kind)
    return delivery


def nearest_store(session: Session, merchant_id: int, lat: float, lng: float,
                  offering: set[int] | None = None) -> Store:
    """The merchant's open store nearest the door; for a visit, among those offering all its items (any open
    store when none offers them all: the merchant's provider still starts somewhere)."""
    query = select(Store).where(Store.merchant_id == merchant_id, Store.status == StoreStatus.OPEN.value)
    stores = session.scalars(query).all()
    if offering:
        offered: dict[int, set[int]] = {}
        for store_id, item_id in session.execute(select(StoreItem.store_id, StoreItem.item_id)
                                                 .where(StoreItem.item_id.in_(offering))):
            offered.setdefault(store_id, set()).add(item_id)
        stores = [s for s in stores if offered.get(s.id, set()) >= offering] or stores
    if not stores:
        raise NoStoreToDeliverFrom()
    return min(stores, key=lambda s: (haversine_m(lat, lng, s.lat, s.lng), s.id))


def cancel_for_order(session: Session, order_id: int) -> None:
    """A refunded order is not carried: cancel unless the bag has left the store (then it is delivered)."""
    delivery = session.scalar(select(Delivery).where(Delivery.order_id == order_id))
    if delivery is None or delivery.status not in (S.WAITING, S.ASSIGNED, S.AT_STORE):
        return
    now = utcnow()
    release_live(session, delivery.id, "order refunded", now)
    move(session, delivery, S.CANCELLED, cancelled_at=now, courier_id=None)
    fact(session, "delivery.cancelled", delivery)


# --- who may see and touch a delivery --------------------------------------------------------------


def _get(session: Session, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise DeliveryNotFound()
    return delivery


def readable(session: Session, principal: Principal, delivery_id: int) -> Delivery:
    require_login(principal)
    delivery = _get(session, delivery_id)
    if principal.is_operator or principal.user_id == delivery.consumer_id \
            or principal.can(Action.CONSOLE_VIEW, delivery.merchant_id):
        return delivery
    if delivery.courier_id is not None:
        courier = session.get(Courier, delivery.courier_id)
        if courier is not None and courier.user_id == principal.user_id:
            return delivery
    raise DeliveryNotFound()


def of_order(session: Session, principal: Principal, order_id: int) -> Delivery:
    require_login(principal)
    delivery_id = session.scalar(select(Delivery.id).where(Delivery.order_id == order_id))
    if delivery_id is None:
        raise DeliveryNotFound()
    return readable(session, principal, delivery_id)


def carried_by_caller(session: Session, principal: Principal, delivery_id: int) -> tuple[Delivery, Courier]:
    courier = couriers.of_principal(session, principal)
    delivery = _get(session, delivery_id)
    if delivery.courier_id != courier.id:
        # Not theirs: as if it did not exist, unless it is theirs to see anyway (a waiting one they may take).
        raise DeliveryNotFound() if delivery.status != S.WAITING else WrongDeliveryState(
            details={"status": delivery.status, "wanted": "assigned to you"})
    return delivery, courier


# --- assignment --------------------------------------------------------------------------------------


def release_live(session: Session, delivery_id: int, reason: str, now: datetime) -> None:
    session.execute(update(DeliveryAssignment)
                    .where(DeliveryAssignment.delivery_id == delivery_id, DeliveryAssignment.released_at.is_(None))
                    .values(released_at=now, release_reason=reason[:200])
                    .execution_options(synchronize_session=False))


def assign(session: Session, delivery: Delivery, courier: Courier, *, route_key: str, position: int, policy: str,
           now: datetime, planned_pickup_at: datetime | None = None, planned_dropoff_at: datetime | None = None,
           assigned_by: int | None = None) -> bool:
    """Give a waiting delivery to a courier. False (nothing changed) when this very route already carries it, as
    a retried dispatch cycle finds; AlreadyTaken when another assignment does. The partial unique index on live
    assignments is what decides between two parallel attempts."""
    live = session.scalar(select(DeliveryAssignment).where(DeliveryAssignment.delivery_id == delivery.id,
                                                           DeliveryAssignment.released_at.is_(None)))
    if live is not None:
        if live.route_key == route_key and live.courier_id == courier.id:
            return False
        raise AlreadyTaken()
    try:
        with session.begin_nested():  # both or neither: a losing attempt leaves no live assignment behind
            session.add(DeliveryAssignment(delivery_id=delivery.id, courier_id=courier.id, route_key=route_key,
                                           position=position, policy=policy, assigned_by=assigned_by,
                                           assigned_at=now))
            session.flush()
            move(session, delivery, S.ASSIGNED, courier_id=courier.id, assigned_at=now,
                 planned_pickup_at=planned_pickup_at, planned_dropoff_at=planned_dropoff_at)
    except (IntegrityError, WrongDeliveryState):
        session.expire(delivery)
        raise AlreadyTaken() from None
    fact(session, "delivery.assigned", delivery, courier_id=courier.id, policy=policy)
    return True


def accept(session: Session, principal: Principal, delivery_id: int) -> Delivery:
    """A courier takes a waiting delivery themselves (the grab mode of small fleets): one of two wins."""
    courier = couriers.of_principal(session, principal)
    now = utcnow()
    if not couriers.on_duty(courier, now):
        raise CourierOffline()
    delivery = _get(session, delivery_id)
    if (courier.merchant_id is not None and courier.merchant_id != delivery.merchant_id) \
            or not couriers.fits(courier, delivery):
        raise DeliveryNotFound()  # not one they are offered: as if it did not exist
    if delivery.status != S.WAITING:
        raise AlreadyTaken() if delivery.courier_id not in (None, courier.id) else WrongDeliveryState(
            details={"status": delivery.status, "wanted": S.ASSIGNED.value})
    assign(session, delivery, courier, route_key=f"accept-{delivery.id}-{courier.id}", position=0, policy="accepted",
           now=now)
    return delivery


def reassign(session: Session, principal: Principal, delivery_id: int, courier_id: int, reason: str) -> Delivery:
    """Manual override from a dispatch board: recorded as a release of the old assignment and a new one."""
    delivery = readable(session, principal, delivery_id)
    courier = couriers.get(session, courier_id)
    if not (principal.is_operator or principal.can(Action.STORE_MANAGE, delivery.merchant_id)) \
            or not couriers.may_dispatch(principal, courier) \
            or (courier.merchant_id is not None and courier.merchant_id != delivery.merchant_id):
        raise DeliveryNotFound()
    if not couriers.fits(courier, delivery):
        raise CourierRoleMismatch(details={"kind": delivery.kind, "provider": courier.is_provider})
    if delivery.status not in (S.WAITING, S.ASSIGNED, S.AT_STORE):
        raise WrongDeliveryState(details={"status": delivery.status, "wanted": S.ASSIGNED.value})
    now = utcnow()
    if delivery.status != S.WAITING:
        release_live(session, delivery.id, f"reassigned: {reason}", now)
        move(session, delivery, S.WAITING, courier_id=None, assigned_at=None, arrived_at=None,
             planned_pickup_at=None, planned_dropoff_at=None)
        fact(session, "delivery.released", delivery, reason=reason)
    assign(session, delivery, courier, route_key=f"manual-{delivery.id}-{int(now.timestamp())}", position=0,
           policy="manual", now=now, assigned_by=principal.user_id)
    return delivery


# --- the courier's steps ---------------------------------------------------------------------------


def arrive(session: Session, principal: Principal, delivery_id: int) -> Delivery:
    delivery, _ = carried_by_caller(session, principal, delivery_id)
    if delivery.status == S.AT_STORE:
        return delivery  # a retried tap
    move(session, delivery, S.AT_STORE, arrived_at=utcnow())
    return delivery


def mark_ready(session: Session, principal: Principal, delivery_id: int) -> Delivery:
    """The store says the order is packed: from now on the courier may take it."""
    delivery = readable(session, principal, delivery_id)
    if not principal.can(Action.COUNTER, delivery.merchant_id):
        raise DeliveryNotFound()
    now = utcnow()
    if delivery.status in (S.WAITING, S.ASSIGNED, S.AT_STORE) and delivery.ready_at > now:
        delivery.ready_at = now
        session.flush()
    return delivery


def pick_up(session: Session, principal: Principal, delivery_id: int) -> Delivery:
    delivery, _ = carried_by_caller(session, principal, delivery_id)
    if delivery.status == S.PICKED_UP:
        return delivery
    now = utcnow()
    if now < delivery.ready_at:
        raise NotReadyYet(details={"ready_at": delivery.ready_at.isoformat()})
    move(session, delivery, S.PICKED_UP, picked_up_at=now, arrived_at=delivery.arrived_at or now)
    fact(session, "delivery.picked_up", delivery)
    return delivery


def hand_over(session: Session, principal: Principal, delivery_id: int, code: str) -> Delivery:
    delivery, _ = carried_by_caller(session, principal, delivery_id)
    if delivery.status == S.DELIVERED:
        return delivery
    if delivery.status != S.PICKED_UP or delivery.kind == DeliveryKind.VISIT:  # a visit ends with the voucher
        raise WrongDeliveryState(details={"status": delivery.status, "wanted": S.DELIVERED.value,
                                          "kind": delivery.kind})
    if delivery.handover_failures >= MAX_HANDOVER_FAILURES:
        raise HandoverLocked(details={"max_failures": MAX_HANDOVER_FAILURES})
    if not hmac.compare_digest(code.encode(), delivery.handover_code.encode()):
        raise WrongHandoverCode(details={"attempts_left": MAX_HANDOVER_FAILURES - delivery.handover_failures - 1})
    now = utcnow()
    move(session, delivery, S.DELIVERED, delivered_at=now)
    fact(session, "delivery.delivered", delivery,
          click_to_door_s=int((now - delivery.placed_at).total_seconds()))
    return delivery


def route_of(session: Session, courier: Courier) -> list[Delivery]:
    """What the courier carries now, in the order to pick up and drop off."""
    return list(session.scalars(
        select(Delivery).join(DeliveryAssignment, (DeliveryAssignment.delivery_id == Delivery.id)
                              & DeliveryAssignment.released_at.is_(None))
        .where(Delivery.courier_id == courier.id, Delivery.status.in_([S.ASSIGNED, S.AT_STORE, S.PICKED_UP]))
        .order_by(DeliveryAssignment.assigned_at, DeliveryAssignment.route_key, DeliveryAssignment.position)))


def waiting_for(session: Session, courier: Courier) -> list[Delivery]:
    """Deliveries a courier may take: its merchant's (own riders) or any (the platform's fleet); visits for
    providers, deliveries for the others."""
    kind = DeliveryKind.VISIT if courier.is_provider else DeliveryKind.DELIVERY
    query = select(Delivery).where(Delivery.status == S.WAITING, Delivery.kind == kind.value) \
        .order_by(Delivery.ready_at, Delivery.id).limit(50)
    if courier.merchant_id is not None:
        query = query.where(Delivery.merchant_id == courier.merchant_id)
    return list(session.scalars(query))
