"""The optimised policy: one cycle of the rolling horizon.

1. Look ahead: the open orders ready before now + horizon, and the couriers free within the courier look-ahead
   (a few minutes: a courier far from free is better left out than planned around).
2. Bundle each store's orders to the target size (`bundling.py`).
3. Price every (bundle, courier) pair: the bundle's click-to-door if that courier leaves as soon as it is free,
   plus its driving; a pair whose pickup would fall after the courier's shift is impossible.
4. Match with a min-cost assignment (scipy's linear_sum_assignment). Each bundle also has a "not now" column
   priced as its best courier one cycle later, so when couriers are short the urgent bundles win them.
5. Commit only the pairs that cannot wait: the courier is idle now and, left one more cycle, would reach the
   store after the bundle is ready. Everything else is planned again next cycle with the orders that have
   arrived since, which is what lets later orders join a bundle.
"""

from __future__ import annotations

import numpy as np

from daodian.dispatch.bundling import bundle_orders, target_bundle_size
from daodian.dispatch.costs import click_to_door_cost
from daodian.dispatch.model import Assignment, Courier, CycleStats, Decisions, DispatchState, Order, Params
from daodian.dispatch.routes import Bundle, build_route, split_service
from daodian.dispatch.travel import travel_matrix_s, travel_s

IMPOSSIBLE = 1e15  # a pair the matching must not use (the solver needs finite costs)
NEVER = IMPOSSIBLE / 10  # the cost of leaving a bundle that no courier could take a cycle later


def open_orders(state: DispatchState, now: int) -> list[Order]:
    """Orders the engine may assign now: placed, not yet committed."""
    return [order for order in state.orders if order.placed_at <= now and order.id not in state.assigned]


def plan_optimised(state: DispatchState, now: int) -> Decisions:
    params = state.params
    horizon = now + params.horizon_s
    orders = [order for order in open_orders(state, now) if order.ready_at <= horizon]
    couriers = sorted((c for c in state.couriers
                       if c.off_at > now and max(c.free_at, c.on_at) <= now + params.courier_lookahead_s),
                      key=lambda c: c.id)
    if not orders or not couriers:
        return Decisions(now, (), CycleStats(len(orders), len(couriers), 0, 0))
    size = target_bundle_size(params, len(orders), len(couriers))
    bundles = bundle_orders(params, orders, size, now)

    positions = np.array([c.position for c in couriers], dtype=np.float64)
    departs = np.array([max(now, c.free_at, c.on_at) for c in couriers], dtype=np.int64)
    off = np.array([c.off_at for c in couriers], dtype=np.int64)
    n_bundles, n_couriers = len(bundles), len(couriers)
    legs = travel_matrix_s(params, positions, np.array([b.store_point for b in bundles], dtype=np.float64))
    costs = np.full((n_bundles, n_couriers + n_bundles), IMPOSSIBLE)
    costs[:, :n_couriers] = _pair_costs(params, bundles, departs, legs, off)
    later = _pair_costs(params, bundles, departs + params.cycle_s, legs, off).min(axis=1)
    # With no courier left for it a cycle later, waiting may mean never: "not now" then loses to any courier.
    costs[np.arange(n_bundles), n_couriers + np.arange(n_bundles)] = np.where(later < IMPOSSIBLE, later, NEVER)
    rows, cols = _min_cost_assignment(costs)

    pairs = [(row, col) for row, col in zip(rows.tolist(), cols.tolist(), strict=True)
             if col < n_couriers and costs[row, col] < IMPOSSIBLE]
    pairs += _idle_for_postponed(state, now, couriers, costs[:, :n_couriers], pairs)
    assignments = []
    deferred = 0
    for row, col in pairs:
        bundle, courier = bundles[row], couriers[col]
        if _must_leave_now(state, bundle, courier, now):
            route = build_route(params, courier.id, courier.position, now, bundle)
            assignments.append(Assignment(route, now, "optimised"))
        else:
            deferred += 1
    assignments.sort(key=lambda a: (a.route.courier_id, a.route.order_ids))
    return Decisions(now, tuple(assignments), CycleStats(len(orders), len(couriers), len(bundles), deferred))


def _idle_for_postponed(state: DispatchState, now: int, couriers: list[Courier], now_costs: np.ndarray,
                        pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A second matching: couriers idle now whom the first left without a bundle, with the bundles it put off.

    A bundle's "not now" price is its best courier a cycle later; when many bundles wait at one store that same
    best courier prices every one of them, though it can take only one, so the first matching puts off bundles
    that idle couriers could carry now. Only couriers that would otherwise stay idle this cycle are offered, and
    a pair is still committed only when the bundle cannot wait (`_must_leave_now`)."""
    used_rows = {row for row, _ in pairs}
    used_cols = {col for _, col in pairs}
    rows = [row for row in range(now_costs.shape[0]) if row not in used_rows]
    cols = [col for col, courier in enumerate(couriers)
            if col not in used_cols and courier.free_at <= now and courier.on_at <= now]
    if not rows or not cols:
        return []
    sub = now_costs[np.ix_(rows, cols)]
    matched_rows, matched_cols = _min_cost_assignment(sub)
    return [(rows[r], cols[c]) for r, c in zip(matched_rows.tolist(), matched_cols.tolist(), strict=True)
            if sub[r, c] < IMPOSSIBLE]


def _pair_costs(params: Params, bundles: list[Bundle], departs: np.ndarray, legs: np.ndarray,
                off: np.ndarray) -> np.ndarray:
    """Cost of each bundle (rows) with each courier (columns) leaving at `departs` and driving `legs` to the
    bundle's store; IMPOSSIBLE where the pickup would fall after the courier's shift."""
    pickup_before, _ = split_service(params.pickup_service_s)
    ready = np.array([b.ready_at for b in bundles], dtype=np.int64)
    pickups = np.maximum(departs[None, :] + legs + pickup_before, ready[:, None])
    sizes = [len(b.orders) for b in bundles]
    bundle_of_order = np.repeat(np.arange(len(bundles)), sizes)
    since_placed = np.array([offset - order.placed_at for b in bundles
                             for order, offset in zip(b.orders, b.dropoff_offsets, strict=True)], dtype=np.int64)
    per_order = click_to_door_cost(params, pickups[bundle_of_order] + since_placed[:, None])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    driving = np.array([b.driving_s for b in bundles], dtype=np.float64)
    cost = np.add.reduceat(per_order, starts, axis=0) + params.travel_weight * (legs + driving[:, None])
    return np.where(pickups <= off[None, :], cost, IMPOSSIBLE)


def _must_leave_now(state: DispatchState, bundle: Bundle, courier: Courier, now: int) -> bool:
    """Commit when the courier is free now and waiting one more cycle would make it late at the store."""
    if courier.free_at > now or courier.on_at > now:
        return False
    params = state.params
    pickup_before, _ = split_service(params.pickup_service_s)
    arrival_next_cycle = now + params.cycle_s + travel_s(params, courier.position, bundle.store_point)
    return arrival_next_cycle + pickup_before > bundle.ready_at


def _min_cost_assignment(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy's linear_sum_assignment, imported at the first cycle: scipy.optimize took ~0.6 s of every server
    process's start (issue 15: ready within 10 s), where the dispatch job may never run."""
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment(costs)
