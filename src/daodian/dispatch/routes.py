"""The timing of a route: when a courier reaches the store, picks the bundle up and hands each order over.

A bundle's drop-off instants are fixed offsets from its pickup instant (the legs between customers do not
depend on the courier), so the matching can price every courier for a bundle from one number each: when that
courier would reach the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from daodian.dispatch.model import Order, Params, Point, Route, Stop
from daodian.dispatch.travel import travel_s


def split_service(service_s: int) -> tuple[int, int]:
    """Half of a service time before the pickup or hand-over instant, the rest after it."""
    before = service_s // 2
    return before, service_s - before


@dataclass(frozen=True, slots=True)
class Bundle:
    """Orders of one store carried together, in drop-off order, with timings relative to the pickup instant."""

    store_id: str
    store_point: Point
    orders: tuple[Order, ...]
    ready_at: int  # the latest ready time: the bundle cannot be picked up before it
    dropoff_offsets: tuple[int, ...]  # each order's hand-over instant minus the pickup instant
    end_offset: int  # when the courier leaves the last customer, minus the pickup instant
    driving_s: int  # driving from the store through every customer

    @property
    def order_ids(self) -> tuple[str, ...]:
        return tuple(order.id for order in self.orders)


def make_bundle(params: Params, orders: tuple[Order, ...]) -> Bundle:
    """The bundle of `orders` (one store, non-empty) dropped off in the given order."""
    _, pickup_after = split_service(params.pickup_service_s)
    drop_before, drop_after = split_service(params.dropoff_service_s)
    offsets = []
    clock = pickup_after  # leaving the store
    driving = 0
    here = orders[0].pickup
    for order in orders:
        leg = travel_s(params, here, order.dropoff)
        driving += leg
        offsets.append(clock + leg + drop_before)
        clock += leg + drop_before + drop_after
        here = order.dropoff
    return Bundle(orders[0].store_id, orders[0].pickup, orders, max(order.ready_at for order in orders),
                  tuple(offsets), clock, driving)


def pickup_instant(params: Params, bundle: Bundle, arrive_at: int) -> int:
    """A courier reaching the store at `arrive_at` picks the bundle up at this instant."""
    pickup_before, _ = split_service(params.pickup_service_s)
    return max(arrive_at + pickup_before, bundle.ready_at)


def build_route(params: Params, courier_id: str, start: Point, depart_at: int, bundle: Bundle) -> Route:
    """The full route of `bundle` for a courier leaving `start` at `depart_at`."""
    arrive = depart_at + travel_s(params, start, bundle.store_point)
    pickup = pickup_instant(params, bundle, arrive)
    pickup_before, pickup_after = split_service(params.pickup_service_s)
    drop_before, drop_after = split_service(params.dropoff_service_s)
    stops = [Stop("pickup", bundle.order_ids, bundle.store_point, arrive, pickup, pickup + pickup_after)]
    for order, offset in zip(bundle.orders, bundle.dropoff_offsets, strict=True):
        handed = pickup + offset
        stops.append(Stop("dropoff", (order.id,), order.dropoff, handed - drop_before, handed, handed + drop_after))
    return Route(courier_id, bundle.store_id, bundle.order_ids, start, depart_at, tuple(stops))
