"""Bundles: the open orders of each store split into routes of about the target size.

The target size follows the load: ceil(orders in the horizon / couriers available in it), at least 1 and at
most the capacity. With couriers to spare every order travels alone (the fastest door-to-door); when orders
outnumber couriers, each courier carries several from one store, which is what keeps click-to-door bounded.
A store's orders, earliest ready first, are inserted one by one where they add the least cost (into a new
bundle while the store has fewer than ceil(n / size), otherwise into the bundle and drop-off position that
hurts least).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from daodian.dispatch.costs import click_to_door_cost
from daodian.dispatch.model import Order, Params
from daodian.dispatch.routes import Bundle, make_bundle, split_service


def target_bundle_size(params: Params, open_orders: int, available_couriers: int) -> int:
    if available_couriers <= 0:
        return params.capacity
    return max(1, min(params.capacity, math.ceil(open_orders / available_couriers)))


def bundle_cost(params: Params, bundle: Bundle, now: int) -> float:
    """The bundle's cost if a courier were waiting at the store now: its orders' click-to-door and its driving."""
    pickup_before, _ = split_service(params.pickup_service_s)
    pickup = max(now + pickup_before, bundle.ready_at)
    ctd = np.array([pickup + offset - order.placed_at for order, offset in
                    zip(bundle.orders, bundle.dropoff_offsets, strict=True)], dtype=np.int64)
    return float(click_to_door_cost(params, ctd).sum()) + params.travel_weight * bundle.driving_s


def bundle_orders(params: Params, orders: list[Order], size: int, now: int) -> list[Bundle]:
    """Every order in exactly one bundle of its store, deterministically (stores by id, orders by ready time)."""
    by_store: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        by_store[order.store_id].append(order)
    bundles: list[Bundle] = []
    for store_id in sorted(by_store):
        store_orders = sorted(by_store[store_id], key=lambda o: (o.ready_at, o.placed_at, o.id))
        bundles.extend(_bundle_store(params, store_orders, size, now))
    return bundles


def _bundle_store(params: Params, orders: list[Order], size: int, now: int) -> list[Bundle]:
    if size == 1:
        return [make_bundle(params, (order,)) for order in orders]
    most_bundles = math.ceil(len(orders) / size)
    bundles: list[Bundle] = []
    costs: list[float] = []
    for order in orders:
        best: tuple[float, int, Bundle] | None = None
        if len(bundles) < most_bundles:
            alone = make_bundle(params, (order,))
            best = (bundle_cost(params, alone, now), len(bundles), alone)
        for index, bundle in enumerate(bundles):
            if len(bundle.orders) >= size:
                continue
            for position in range(len(bundle.orders) + 1):
                sequence = bundle.orders[:position] + (order,) + bundle.orders[position:]
                candidate = make_bundle(params, sequence)
                added = bundle_cost(params, candidate, now) - costs[index]
                if best is None or added < best[0]:
                    best = (added, index, candidate)
        assert best is not None  # ceil(n / size) bundles of `size` always have room
        _, index, chosen = best
        if index == len(bundles):
            bundles.append(chosen)
            costs.append(bundle_cost(params, chosen, now))
        else:
            bundles[index] = chosen
            costs[index] = bundle_cost(params, chosen, now)
    return bundles
