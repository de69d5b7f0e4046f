"""Replaying an MDRP instance through the engine on a simulated clock.

Every cycle the replay shows the engine what a server would know at that instant (orders placed so far and not
yet assigned, each courier's next free time and place), commits the decisions in a `Ledger` and moves the
couriers along their committed routes. Nothing about the future leaks in: an order is visible from its
placement time on, and its ready time is the store's promise, as the server would have it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from daodian.dispatch.engine import plan
from daodian.dispatch.ledger import Ledger
from daodian.dispatch.mdrp import MINUTE, Instance
from daodian.dispatch.model import Assignment, DispatchState, Order, Policy


@dataclass(frozen=True, slots=True)
class SimulationResult:
    instance: Instance
    policy: Policy
    assignments: list[Assignment]  # in commit order
    cycle_seconds: list[float]  # wall time of each `plan` call
    unassigned: tuple[str, ...]  # orders no courier could take


def simulate(instance: Instance, policy: Policy) -> SimulationResult:
    params = instance.params
    # The greedy baseline reacts to each order as soon as it is ready; it is checked every minute.
    cycle = MINUTE if policy == "greedy" else params.cycle_s
    couriers = {c.id: c for c in instance.couriers}
    pending = sorted(instance.orders, key=lambda o: (o.placed_at, o.id))
    last_off = max(c.off_at for c in instance.couriers)
    first = min(min(o.placed_at for o in pending), min(c.on_at for c in instance.couriers))
    now = first - first % cycle
    ledger = Ledger()
    visible: dict[str, Order] = {}  # placed, not yet assigned
    next_order = 0
    timings: list[float] = []
    while now <= last_off and (visible or next_order < len(pending)):
        while next_order < len(pending) and pending[next_order].placed_at <= now:
            visible[pending[next_order].id] = pending[next_order]
            next_order += 1
        if visible:
            state = DispatchState(tuple(visible.values()), tuple(c for c in couriers.values() if c.off_at > now),
                                  params, ledger.assigned())
            started = time.perf_counter()
            decisions = plan(state, now, policy)
            timings.append(time.perf_counter() - started)
            for assignment in decisions.assignments:
                ledger.commit(assignment)
                route = assignment.route
                couriers[route.courier_id] = replace(couriers[route.courier_id], position=route.end_position,
                                                     free_at=route.end_at)
                for order_id in route.order_ids:
                    del visible[order_id]
        now += cycle
    return SimulationResult(instance, policy, list(ledger.assignments.values()), timings,
                            tuple(sorted(visible)) + tuple(o.id for o in pending[next_order:]))
