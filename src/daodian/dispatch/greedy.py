"""The greedy baseline: when an order is ready, the nearest idle courier fetches it alone.

Orders are taken earliest ready first (then by id); each goes to the idle courier with the shortest drive to
its store among those who can still pick it up before their shift ends (ties by courier id). No look-ahead,
no bundles: the yardstick the optimised policy must beat.
"""

from __future__ import annotations

from daodian.dispatch.model import Assignment, CycleStats, Decisions, DispatchState
from daodian.dispatch.optimiser import open_orders
from daodian.dispatch.routes import build_route, make_bundle, split_service
from daodian.dispatch.travel import travel_s


def plan_greedy(state: DispatchState, now: int) -> Decisions:
    params = state.params
    pickup_before, _ = split_service(params.pickup_service_s)
    ready = sorted((order for order in open_orders(state, now) if order.ready_at <= now),
                   key=lambda o: (o.ready_at, o.id))
    idle = {c.id: c for c in state.couriers if c.on_at <= now and c.free_at <= now and c.off_at > now}
    assignments = []
    for order in ready:
        best = None
        for courier_id in sorted(idle):
            courier = idle[courier_id]
            drive = travel_s(params, courier.position, order.pickup)
            if now + drive + pickup_before > courier.off_at:
                continue
            if best is None or drive < best[0]:
                best = (drive, courier)
        if best is None:
            continue
        courier = best[1]
        del idle[courier.id]
        route = build_route(params, courier.id, courier.position, now, make_bundle(params, (order,)))
        assignments.append(Assignment(route, now, "greedy"))
    n_idle = len(idle) + len(assignments)
    return Decisions(now, tuple(assignments), CycleStats(len(ready), n_idle, len(ready), 0))
