"""Authorization-matrix entries (see tests/support/matrix.py) for couriers, deliveries, tracking and dispatch.

Deliveries are consumer A's delivery orders at the merchant world's store (consumer worlds: the world's
consumer's, at the store they shop at), each in the state its route needs: waiting to be taken, assigned to
the matrix's courier to arrive or pick up, picked up to hand over. The courier actor is one of the platform's
fleet (any merchant's deliveries), on duty.
"""

from datetime import timedelta

from sqlalchemy import select

from daodian.delivery.models import Courier, Delivery, DeliveryStatus
from daodian.kit.clock import utcnow
from daodian.vouchers.models import Voucher
from tests.delivery.helpers import delivery_order, make_courier
from tests.factories import make_order, make_user
from tests.support.matrix import API_PREFIX
from tests.support.matrix_orders import customer, shop_of


def _courier(scene) -> Courier:
    return scene.db.scalars(select(Courier).where(Courier.user_id == scene.users["courier"].id)).one()


def _delivery(scene, world, state: str) -> Delivery:
    def make() -> Delivery:
        order = delivery_order(scene.db, customer(scene, world), shop_of(scene, world))
        delivery = scene.db.scalars(select(Delivery).where(Delivery.order_id == order.id)).one()
        delivery.ready_at = utcnow() - timedelta(minutes=1)
        if state != DeliveryStatus.WAITING:
            now = utcnow()
            # The matrix's courier carries what its routes act on; someone else carried the delivered one, so the
            # tracking routes show only the consumer and the shop's staff.
            carrier = _rider(scene, world) if state == DeliveryStatus.DELIVERED else _courier(scene).id
            delivery.status, delivery.courier_id, delivery.assigned_at = state, carrier, now
            delivery.picked_up_at = now if state == DeliveryStatus.PICKED_UP else None
        scene.db.flush()
        return delivery
    return scene.once(world, f"delivery-{state}", make)


def _visit(scene, world) -> Delivery:
    """An at-home visit (上门服务) of the world's consumer, carried by the matrix's courier and set off: the paid
    service order's voucher is what completes it. Opened here by hand on an ordinary paid service order, so the
    world's item stays one used at the store for the other areas' cases."""
    def make() -> Delivery:
        shop = shop_of(scene, world)
        order = make_order(scene.db, customer(scene, world), shop=shop, paid=True)
        now = utcnow()
        visit = Delivery(order_id=order.id, merchant_id=shop.merchant.id, store_id=shop.store.id,
                         consumer_id=order.consumer_id, dropoff_lat=30.27, dropoff_lng=120.16, kind="visit",
                         status=DeliveryStatus.PICKED_UP.value, handover_code="123456", placed_at=now, ready_at=now,
                         courier_id=_courier(scene).id, assigned_at=now, picked_up_at=now)
        scene.db.add(visit)
        scene.db.flush()
        return visit
    return scene.once(world, "visit", make)


def _visit_code(scene, world) -> dict:
    order_id = _visit(scene, world).order_id
    return {"code": scene.db.scalars(select(Voucher.code).where(Voucher.order_id == order_id)).one()}


def _rider(scene, world) -> int:
    """A rider of the merchant the delivery is at, whom its managers may dispatch."""
    merchant = shop_of(scene, world).merchant
    return scene.once(world, "rider", lambda: make_courier(scene.db, name="自家骑手", merchant=merchant)).id


def _new_courier_user(scene, world) -> dict:
    return {"user_id": scene.once(world, "courier-user", lambda: make_user(scene.db, name="新骑手")).id}


DELIVERIES = f"{API_PREFIX}/deliveries/{{delivery_id}}"
ORDERS = f"{API_PREFIX}/orders/{{order_id}}"

PARAMS = {
    f"{DELIVERIES}/accept#delivery_id": lambda s, w: _delivery(s, w, DeliveryStatus.WAITING).id,
    f"{DELIVERIES}/ready#delivery_id": lambda s, w: _delivery(s, w, DeliveryStatus.WAITING).id,
    f"{DELIVERIES}/assign#delivery_id": lambda s, w: _delivery(s, w, DeliveryStatus.WAITING).id,
    f"{DELIVERIES}/arrive#delivery_id": lambda s, w: _delivery(s, w, DeliveryStatus.ASSIGNED).id,
    f"{DELIVERIES}/pickup#delivery_id": lambda s, w: _delivery(s, w, DeliveryStatus.ASSIGNED).id,
    f"{DELIVERIES}/deliver#delivery_id": lambda s, w: _delivery(s, w, DeliveryStatus.PICKED_UP).id,
    f"{DELIVERIES}/handover-code#delivery_id": lambda s, w: _delivery(s, w, DeliveryStatus.PICKED_UP).id,
    f"{DELIVERIES}/complete-visit#delivery_id": lambda s, w: _visit(s, w).id,
    f"{ORDERS}/delivery#order_id": lambda s, w: _delivery(s, w, DeliveryStatus.WAITING).order_id,
    # Delivered: the event stream sends the delivery once and ends, so a case does not wait for news.
    f"{ORDERS}/delivery/events#order_id": lambda s, w: _delivery(s, w, DeliveryStatus.DELIVERED).order_id,
}

BODIES = {
    "POST /api/v1/couriers": _new_courier_user,
    "POST /api/v1/merchants/{merchant_id}/couriers": _new_courier_user,
    "PUT /api/v1/couriers/me/shift": {"online": True},
    "POST /api/v1/couriers/me/positions": {"lat": 30.26, "lng": 120.15, "datum": "wgs84"},
    "POST /api/v1/deliveries/{delivery_id}/deliver":
        lambda s, w: {"code": _delivery(s, w, DeliveryStatus.PICKED_UP).handover_code},
    "POST /api/v1/deliveries/{delivery_id}/assign": lambda s, w: {"courier_id": _rider(s, w), "reason": "matrix"},
    "POST /api/v1/deliveries/{delivery_id}/complete-visit": _visit_code,
}
