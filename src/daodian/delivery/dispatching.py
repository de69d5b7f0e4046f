"""One dispatch cycle on the server: the open deliveries and the couriers on duty, as the engine sees them
(daodian.dispatch, which plans in metres and seconds), then its decisions recorded as assignments.

Pools: a merchant with riders of its own has its deliveries carried by them; every other merchant's by the
platform's fleet. Visits (上门服务) are pooled the same way among providers only, one at a time each (a bag of
one: the provider stays for the service), and deliveries among the other couriers. Each pool is planned on its own. A courier carrying a route is passed as free where and when
that route ends (the engine does not divert couriers mid-route). The engine is deterministic and each of its
assignments has an id derived from its content, so a cycle retried after a crash records nothing twice; the
partial unique index on live assignments makes sure a delivery has one courier even if two runners raced.
The periodic job runs it under a lease (daodian.jobs), so one process per period plans the city.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.delivery import couriers as courier_service
from daodian.delivery.deliveries import assign
from daodian.delivery.errors import AlreadyTaken
from daodian.delivery.models import Courier, Delivery, DeliveryKind, DeliveryStatus
from daodian.delivery.plane import LocalPlane, around
from daodian.dispatch import model as engine_model
from daodian.dispatch.engine import plan
from daodian.merchants.models import Store

S = DeliveryStatus
DROPOFF_SERVICE_S = 240  # hand over at the door: half before the instant, half after (the engine's rule)
VISIT_SERVICE_S = 3600  # a provider busy at the door: the service itself, about an hour
CYCLE_S = 10


@dataclass(frozen=True)
class CycleResult:
    assigned: int
    open_deliveries: int
    available_couriers: int


def params_for(pool: list[Courier], visits: bool = False) -> engine_model.Params:
    """One speed and capacity per pool (the engine's model): the slowest rider's and the smallest bag, so that no
    plan asks a courier for more than they can do. Providers do one visit at a time."""
    return engine_model.Params(
        speed_m_per_min=float(min(c.speed_m_per_min for c in pool)),
        capacity=1 if visits else min(c.capacity for c in pool),
        cycle_s=CYCLE_S,
        travel_unit_s=1,
    )


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def run_cycle(session: Session, now: datetime, policy: engine_model.Policy = "optimised") -> CycleResult:
    waiting = list(session.scalars(select(Delivery).where(Delivery.status == S.WAITING.value)
                                   .order_by(Delivery.id)))
    on_duty = [c for c in session.scalars(select(Courier).where(Courier.online.is_(True), Courier.lat.is_not(None))
                                          .order_by(Courier.id)) if courier_service.on_duty(c, now)]
    own_fleets = {(bool(c.is_provider), c.merchant_id) for c in on_duty if c.merchant_id is not None}
    pools: dict[tuple[bool, int | None], tuple[list[Delivery], list[Courier]]] = defaultdict(lambda: ([], []))
    for delivery in waiting:
        visit = delivery.kind == DeliveryKind.VISIT
        own = (visit, delivery.merchant_id) in own_fleets
        pools[(visit, delivery.merchant_id if own else None)][0].append(delivery)
    for courier in on_duty:
        pools[(bool(courier.is_provider), courier.merchant_id)][1].append(courier)
    assigned = 0
    for key in sorted(pools, key=lambda k: (k[0], k[1] is not None, k[1] or 0)):
        deliveries, pool = pools[key]
        if deliveries and pool:
            assigned += _plan_pool(session, deliveries, pool, now, policy, visits=key[0])
    return CycleResult(assigned=assigned, open_deliveries=len(waiting), available_couriers=len(on_duty))


def _busy_until(session: Session, pool: list[Courier]) -> dict[int, Delivery]:
    """Each busy courier's last planned drop-off: where and when it is free again."""
    last: dict[int, Delivery] = {}
    rows = session.scalars(select(Delivery).where(Delivery.courier_id.in_([c.id for c in pool]),
                                                  Delivery.status.in_([S.ASSIGNED, S.AT_STORE, S.PICKED_UP])))
    for delivery in rows:
        seen = last.get(delivery.courier_id)
        if seen is None or (delivery.planned_dropoff_at or delivery.ready_at) > (seen.planned_dropoff_at or seen.ready_at):
            last[delivery.courier_id] = delivery
    return last


def _plan_pool(session: Session, deliveries: list[Delivery], pool: list[Courier], now: datetime,
               policy: engine_model.Policy, *, visits: bool = False) -> int:
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_({d.store_id for d in deliveries})))}
    busy = _busy_until(session, pool)
    plane: LocalPlane = around([(c.lat, c.lng) for c in pool] + [(d.dropoff_lat, d.dropoff_lng) for d in deliveries])
    now_s = _seconds(now)
    orders = tuple(engine_model.Order(
        id=str(d.id), store_id=str(d.store_id), pickup=plane.to_xy(stores[d.store_id].lat, stores[d.store_id].lng),
        dropoff=plane.to_xy(d.dropoff_lat, d.dropoff_lng), placed_at=min(_seconds(d.placed_at), now_s),
        ready_at=_seconds(d.ready_at)) for d in deliveries)
    engine_couriers = []
    for c in pool:
        carrying = busy.get(c.id)
        if carrying is not None and carrying.planned_dropoff_at is not None:
            position = plane.to_xy(carrying.dropoff_lat, carrying.dropoff_lng)
            stay = VISIT_SERVICE_S if carrying.kind == DeliveryKind.VISIT else DROPOFF_SERVICE_S // 2
            free_at = max(now_s, _seconds(carrying.planned_dropoff_at) + stay)
        else:
            position, free_at = plane.to_xy(c.lat, c.lng), now_s
        if carrying is not None and carrying.planned_dropoff_at is None:
            continue  # taken by hand without a plan: not offered until it is delivered
        off_at = _seconds(c.shift_ends_at) if c.shift_ends_at else now_s + 24 * 3600
        engine_couriers.append(engine_model.Courier(id=str(c.id), position=position, on_at=now_s - 1, off_at=off_at,
                                                    free_at=free_at))
    if not engine_couriers:
        return 0
    state = engine_model.DispatchState(orders=orders, couriers=tuple(engine_couriers), params=params_for(pool, visits))
    decisions = plan(state, now_s, policy)
    by_id = {str(d.id): d for d in deliveries}
    couriers_by_id = {str(c.id): c for c in pool}
    made = 0
    for decision in decisions.assignments:
        route = decision.route
        for position, order_id in enumerate(route.order_ids):
            try:
                made += assign(session, by_id[order_id], couriers_by_id[route.courier_id], route_key=decision.id,
                               position=position, policy=policy, now=now,
                               planned_pickup_at=_moment(route.pickup_at),
                               planned_dropoff_at=_moment(route.dropoff_at(order_id)))
            except AlreadyTaken:
                continue  # a courier grabbed it, or another runner planned it, since we read the state
    return made
