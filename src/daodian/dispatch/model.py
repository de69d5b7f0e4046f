"""What the dispatch engine takes and what it decides: the contract between the engine and its callers.

The engine is pure: no database, no web, no wall clock. A caller (the delivery domain's periodic job, the MDRP
replay in `simulation.py`, a test) builds a `DispatchState` of plain values, calls
`daodian.dispatch.engine.plan(state, now)` and gets back `Decisions`; it then records them (the delivery domain
in its tables, the replay in a `Ledger`) and tells the couriers. Calling `plan` twice with the same state and
`now` gives the same decisions (ties are broken by id, never by dict or set order).

Units, one clock for everything:
- time: integer SECONDS on one monotone clock chosen by the caller (Unix seconds on the server, seconds since
  the start of the day in the MDRP replay, where every time is a whole minute times 60);
- places: (x, y) in METRES on a local plane (the server projects WGS-84 lat/lng around the city's centre; the
  MDRP instances are already in metres). Travel is straight-line distance at `Params.speed_m_per_min`, rounded
  UP to a whole number of `Params.travel_unit_s` (60 for MDRP, whose evaluator rounds travel up to whole
  minutes; 1 on the server).

Timing of a route (the MDRP rules, which the server keeps too): the courier leaves `start` at `depart_at`,
reaches the store, and picks the whole bundle up at `pickup_at` = max(arrival + pickup_service_s / 2, the
latest ready time of its orders); it leaves pickup_service_s / 2 later. At each drop-off it hands over at
arrival + dropoff_service_s / 2 and leaves dropoff_service_s / 2 later. A route is picked up and dropped off
in the same order (`Route.order_ids`). Click-to-door of an order = its drop-off time - `placed_at`.

Commitments: an order is assigned at most once. `plan` never proposes an order found in
`DispatchState.assigned`; a `Ledger` (or the server's table with a unique order id) refuses a second,
different assignment of an order and accepts the same one again as a no-op, so a retried cycle is harmless.
Taking an order back from a courier is explicit: `Ledger.release(order_ids, reason, now)` records a
`Release`, after which the order is open again and the next `plan` may assign it anew.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

Point = tuple[float, float]  # (x, y) metres on the local plane
Policy = Literal["optimised", "greedy"]


@dataclass(frozen=True, slots=True)
class Order:
    """An order to carry from its store to the customer."""

    id: str
    store_id: str
    pickup: Point  # the store's door
    dropoff: Point  # the customer's door
    placed_at: int  # s: when the customer clicked; the engine never assigns an order before this
    ready_at: int  # s: when the store expects it ready (an estimate on the server, exact in MDRP)


@dataclass(frozen=True, slots=True)
class Courier:
    """A courier as the engine sees it: where and when it is next free, and its shift.

    A courier busy on a committed route is passed with `position` = that route's last drop-off and `free_at` =
    when it leaves there (`Route.end_at`): couriers are not diverted mid-route. An idle courier has `free_at`
    <= now and its current position. A courier whose shift starts later has `free_at` = `on_at` and its
    start position.
    """

    id: str
    position: Point
    on_at: int  # s: shift start
    off_at: int  # s: shift end; no pickup after it (drop-offs may finish later)
    free_at: int  # s: when it can start a new route from `position`


@dataclass(frozen=True, slots=True)
class Params:
    """Operating rules and tuning of the engine (all durations in seconds)."""

    speed_m_per_min: float  # straight-line travel speed
    pickup_service_s: int = 240  # park, fetch the bag, back: split half before, half after the pickup instant
    dropoff_service_s: int = 240  # the same at the customer's door
    target_click_to_door_s: int = 40 * 60  # orders delivered within this are on time
    max_click_to_door_s: int = 90 * 60  # never exceeded when some courier can avoid it
    capacity: int = 4  # orders in one route (one store, one bag)
    horizon_s: int = 20 * 60  # orders ready within now + horizon are planned (bundled, matched)
    cycle_s: int = 60  # how often the caller runs `plan`: a route is committed only when waiting one more
    #                        cycle would make its courier late at the store (rolling horizon)
    travel_unit_s: int = 1  # travel times round up to a multiple of this (60 reproduces MDRP's whole minutes)
    travel_weight: float = 0.25  # cost of one second of courier driving, against one second of click-to-door
    courier_lookahead_s: int = 5 * 60  # couriers free (or coming on duty) within this are matched, and their
    #                                    number against the open orders sets the target bundle size
    late_penalty: float = 10.0  # extra cost per second of click-to-door beyond the target
    over_max_penalty: float = 1_000.0  # extra cost per second beyond the maximum: only when nothing better exists


@dataclass(frozen=True, slots=True)
class DispatchState:
    """Everything `plan` looks at. Orders are the open ones (placed, not picked up); couriers those on or coming
    on duty. `assigned` holds the ids of orders already committed to a courier; `plan` skips them."""

    orders: tuple[Order, ...]
    couriers: tuple[Courier, ...]
    params: Params
    assigned: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Stop:
    """One place a route visits: the store (kind "pickup", every order of the route) or a customer."""

    kind: Literal["pickup", "dropoff"]
    order_ids: tuple[str, ...]
    point: Point
    arrive_at: int  # s
    service_at: int  # s: the pickup or hand-over instant
    leave_at: int  # s


@dataclass(frozen=True, slots=True)
class Route:
    """A courier's instruction: go from `start` to the store, pick up `order_ids`, drop them off in that order."""

    courier_id: str
    store_id: str
    order_ids: tuple[str, ...]  # pickup order = drop-off order
    start: Point
    depart_at: int  # s: leaves `start`
    stops: tuple[Stop, ...]  # the store, then one stop per order

    @property
    def pickup_at(self) -> int:
        return self.stops[0].service_at

    @property
    def end_at(self) -> int:
        """When the courier is free again, at the last drop-off."""
        return self.stops[-1].leave_at

    @property
    def end_position(self) -> Point:
        return self.stops[-1].point

    def dropoff_at(self, order_id: str) -> int:
        return next(stop.service_at for stop in self.stops[1:] if stop.order_ids == (order_id,))


@dataclass(frozen=True, slots=True)
class Assignment:
    """A committed route. Its id derives from its content, so committing the same decision twice is a no-op."""

    route: Route
    decided_at: int  # s: never before any of its orders' placed_at
    policy: Policy
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            key = f"{self.route.courier_id}|{self.decided_at}|{','.join(self.route.order_ids)}"
            object.__setattr__(self, "id", hashlib.blake2s(key.encode(), digest_size=8).hexdigest())


@dataclass(frozen=True, slots=True)
class Release:
    """An explicit, recorded take-back of orders from their assignment (a courier fell ill, a store delayed)."""

    order_ids: tuple[str, ...]
    assignment_id: str
    reason: str
    at: int  # s


@dataclass(frozen=True, slots=True)
class CycleStats:
    """What one `plan` call looked at, for monitoring."""

    open_orders: int  # unassigned orders in the horizon
    available_couriers: int
    bundles: int
    deferred: int  # bundles matched to a courier but left for a later cycle


@dataclass(frozen=True, slots=True)
class Decisions:
    """The output of one `plan` call: new assignments to commit, in a deterministic order."""

    now: int
    assignments: tuple[Assignment, ...]
    stats: CycleStats
