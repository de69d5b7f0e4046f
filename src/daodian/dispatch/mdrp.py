"""Grubhub's Meal Delivery Routing Problem instances, read into the engine's types, and solutions written back.

Instance files are tab-separated with a header line (MDRPInstances.pdf, section 2): `orders.txt`,
`restaurants.txt`, `couriers.txt`, `instance_parameters.txt`; coordinates are metres, times whole minutes from
the start of the day. The engine runs in seconds, so every time is multiplied by 60 on the way in and divided on
the way out (it stays a whole minute: travel rounds up to minutes, service times are whole minutes, split in
two whole minutes for the instances' 4-minute services).

Solution files are the three the official evaluator (`compute_performance_summary.py`) reads, space-separated
with a header line: `solution_info_assignments.txt` (assignment time, pickup time, courier, orders),
`solution_info_orders.txt` (one line per delivered order) and `solution_info_couriers.txt` (every move of every
courier, grouped by courier, origin `0` for the courier's on-location).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from daodian.dispatch.model import Assignment, Courier, Order, Params

MINUTE = 60


@dataclass(frozen=True, slots=True)
class Instance:
    name: str
    orders: tuple[Order, ...]
    couriers: tuple[Courier, ...]  # as they start: at their on-location, free from on_at
    params: Params
    pay_per_order: float
    guaranteed_pay_per_hour: float


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_instance(folder: Path, base: Params | None = None) -> Instance:
    """The instance in `folder`, with the engine's tuning taken from `base` and the operating rules (speed,
    service times, click-to-door target and maximum) from the instance."""
    stores = {row["restaurant"]: (float(row["x"]), float(row["y"])) for row in _rows(folder / "restaurants.txt")}
    orders = tuple(
        Order(row["order"], row["restaurant"], stores[row["restaurant"]], (float(row["x"]), float(row["y"])),
              int(row["placement_time"]) * MINUTE, int(row["ready_time"]) * MINUTE)
        for row in _rows(folder / "orders.txt"))
    couriers = tuple(
        Courier(row["courier"], (float(row["x"]), float(row["y"])), int(row["on_time"]) * MINUTE,
                int(row["off_time"]) * MINUTE, int(row["on_time"]) * MINUTE)
        for row in _rows(folder / "couriers.txt"))
    (rules,) = _rows(folder / "instance_parameters.txt")
    params = replace(
        base or Params(speed_m_per_min=1.0),
        speed_m_per_min=float(rules["meters_per_minute"]),
        pickup_service_s=int(rules["pickup service minutes"]) * MINUTE,
        dropoff_service_s=int(rules["dropoff service minutes"]) * MINUTE,
        target_click_to_door_s=int(rules["target click-to-door"]) * MINUTE,
        max_click_to_door_s=int(rules["maximum click-to-door"]) * MINUTE,
        travel_unit_s=MINUTE,
    )
    return Instance(folder.name, orders, couriers, params, float(rules["pay per order"]),
                    float(rules["guaranteed pay per hour"]))


def _minutes(seconds: int) -> int:
    if seconds % MINUTE:
        raise ValueError(f"{seconds} s is not a whole minute: the MDRP files hold whole minutes")
    return seconds // MINUTE


def write_solution(folder: Path, instance: Instance, assignments: list[Assignment]) -> None:
    """The three solution files of `assignments` (in commit order) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    orders = {order.id: order for order in instance.orders}
    with (folder / "solution_info_assignments.txt").open("w") as f:
        f.write("assignment_time pickup_time courier orders\n")
        for a in assignments:
            f.write(f"{_minutes(a.decided_at)} {_minutes(a.route.pickup_at)} {a.route.courier_id} "
                    f"{' '.join(a.route.order_ids)}\n")
    with (folder / "solution_info_orders.txt").open("w") as f:
        f.write("order placement_time ready_time pickup_time dropoff_time courier\n")
        for a in assignments:
            for stop in a.route.stops[1:]:
                order = orders[stop.order_ids[0]]
                f.write(f"{order.id} {_minutes(order.placed_at)} {_minutes(order.ready_at)} "
                        f"{_minutes(a.route.pickup_at)} {_minutes(stop.service_at)} {a.route.courier_id}\n")
    routes_of: dict[str, list[Assignment]] = defaultdict(list)
    for a in assignments:
        routes_of[a.route.courier_id].append(a)
    with (folder / "solution_info_couriers.txt").open("w") as f:
        f.write("courier departure_time origin destination\n")
        for courier in instance.couriers:
            here = "0"  # the evaluator's name for the courier's on-location
            for a in sorted(routes_of.get(courier.id, []), key=lambda a: a.route.depart_at):
                route = a.route
                f.write(f"{courier.id} {_minutes(route.depart_at)} {here} {route.store_id}\n")
                here = route.store_id
                leave = route.stops[0].leave_at
                for stop in route.stops[1:]:
                    f.write(f"{courier.id} {_minutes(leave)} {here} {stop.order_ids[0]}\n")
                    here, leave = stop.order_ids[0], stop.leave_at
