"""The group-buy deal an order joined, as its vouchers show it.

The deal lives in the c2b domain, above this one; it answers through the lookup plugged in at start-up
(daodian.bootstrap), so vouchers import nothing of it. Refusing a voucher whose deal has not succeeded is
a VoucherVerifying handler in c2b, not a lookup here.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.orm import Session

Outcome = Literal["pending", "succeeded", "failed"]


class Deal(Protocol):
    group_buy_id: int
    ends_at: datetime

    @property
    def outcome(self) -> Outcome: ...


DealsOfOrders = Callable[[Session, set[int]], Mapping[int, Deal]]
_lookup: DealsOfOrders | None = None


def answer_with(lookup: DealsOfOrders) -> None:
    global _lookup
    _lookup = lookup


def deals_of_orders(session: Session, order_ids: set[int]) -> Mapping[int, Deal]:
    """The deals of many orders at once, by order id; ordinary orders are absent."""
    if _lookup is None:
        raise RuntimeError("no group-buy deal lookup: call daodian.bootstrap.wire() at start-up")
    return _lookup(session, order_ids)
