"""The order state machine, the one place that says which status may follow which.

    created ──pay──> paid ──fulfil──> fulfilled ──confirm──> completed        (product orders)
       │               └──issue vouchers──> voucher_issued ──last use──> completed   (service orders)
       ├──cancel──> cancelled
       └──deadline──> expired
    paid / fulfilled / voucher_issued / completed ──full refund──> refunded

- `created`: placed, stock reserved, waiting for payment until `expires_at`.
- `paid`: the money arrived (a provider's verified notification, or staff recorded it at the POS).
  A service order moves on to `voucher_issued` in the same transaction.
- `fulfilled`: the goods left the shop (shipped, or handed over at the pickup store).
- `voucher_issued`: vouchers exist; each verification at the counter consumes one use.
- `completed`: the consumer confirmed receipt, or every voucher use was consumed or refunded.
  A manager's reversal of a verification brings a completed service order back to `voucher_issued`.
- `cancelled` / `expired`: never paid; stock is restored. `refunded`: everything paid was refunded.
  Partial refunds keep the status and raise `refunded_fen`.

Every change is one conditional UPDATE (`... WHERE id = :id AND status = :from`), so two racing
requests cannot both move an order: the loser sees rowcount 0 and gets `invalid_transition`.
"""

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from daodian.kit.clock import utcnow
from daodian.kit.errors import Conflict
from daodian.orders.models import Order, OrderStatus

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.CREATED: frozenset({S.PAID, S.CANCELLED, S.EXPIRED}),
    S.PAID: frozenset({S.FULFILLED, S.VOUCHER_ISSUED, S.REFUNDED}),
    S.FULFILLED: frozenset({S.COMPLETED, S.REFUNDED}),
    S.VOUCHER_ISSUED: frozenset({S.COMPLETED, S.REFUNDED}),
    S.COMPLETED: frozenset({S.REFUNDED, S.VOUCHER_ISSUED}),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REFUNDED: frozenset(),
}

CLOSING = frozenset({S.CANCELLED, S.EXPIRED, S.COMPLETED, S.REFUNDED})
REFUNDABLE = frozenset({S.PAID, S.FULFILLED, S.VOUCHER_ISSUED, S.COMPLETED})


class InvalidTransition(Conflict):
    code = "invalid_transition"


def can(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[OrderStatus(current)]


def move(session: Session, order: Order, target: OrderStatus, *, now: datetime | None = None,
         **values) -> None:
    """Move `order` to `target` if it is still in the status we read, or raise `invalid_transition`."""
    current = OrderStatus(order.status)
    if not can(current, target):
        raise InvalidTransition(f"An order that is {current} cannot become {target}.",
                                details={"status": current, "target": target})
    now = now or utcnow()
    if target in CLOSING:
        values.setdefault("closed_at", now)
    elif current in CLOSING:
        values.setdefault("closed_at", None)
    new = {"status": target, "updated_at": now, **values}
    changed = session.execute(_move_statement(tuple(new)), {
        "order_id": order.id, "current": current, **{f"new_{name}": value for name, value in new.items()}}).rowcount
    if changed != 1:
        session.refresh(order)
        raise InvalidTransition(f"The order changed meanwhile; it is now {order.status}.",
                                details={"status": order.status, "target": target})
    # The row is what we read with these values: set them in memory, not read back (a SELECT per move).
    for name, value in new.items():
        set_committed_value(order, name, value)


_ORDERS = Order.__table__


@cache
def _move_statement(columns: tuple[str, ...]):
    """The conditional UPDATE of a move that also sets `columns`: a Core statement on the table (the ORM's bulk
    UPDATE cost more than the statement), built once per set of columns."""
    return (update(_ORDERS).where(_ORDERS.c.id == bindparam("order_id"), _ORDERS.c.status == bindparam("current"))
            .values({name: bindparam(f"new_{name}") for name in columns}))
