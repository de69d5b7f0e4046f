"""Small hand-made dispatch scenes: a speed of 300 m/min, whole-minute travel, times in seconds."""

from daodian.dispatch.model import Courier, DispatchState, Order, Params

MIN = 60
PARAMS = Params(speed_m_per_min=300, travel_unit_s=60, capacity=3)


def order(order_id: str, store: tuple[float, float], dropoff: tuple[float, float], placed: int, ready: int,
          store_id: str | None = None) -> Order:
    return Order(order_id, store_id or f"s{int(store[0])}_{int(store[1])}", store, dropoff, placed * MIN, ready * MIN)


def courier(courier_id: str, at: tuple[float, float], on: int = 0, off: int = 600, free: int = 0) -> Courier:
    return Courier(courier_id, at, on * MIN, off * MIN, free * MIN)


def state(orders: list[Order], couriers: list[Courier], params: Params = PARAMS,
          assigned: frozenset[str] = frozenset()) -> DispatchState:
    return DispatchState(tuple(orders), tuple(couriers), params, assigned)
