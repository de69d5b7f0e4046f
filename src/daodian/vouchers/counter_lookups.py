"""What a verification at the counter reads before it writes: the clerk, the store, the terminals' wrong codes,
and the voucher with its line's name, whether the store offers its item, and its order (locked) with the uses
left in it. Gathered for a batch of verifications (kit.api.group_commit, kit.db.gathered): the batch's first
verification reads each kind for all, one query per kind (two for the vouchers: their orders are locked first),
and the others find theirs; a verification outside a batch reads its own.

These reads happen in the verification's transaction (on SQLite under the write lock: nobody else writes
meanwhile). A batch locks the orders of all its codes at once, in id order, so two batches never deadlock on
them, and only then reads the vouchers and what is left in their orders: with its orders locked nobody else
can change how many uses are left in them (refunds and reversals lock the order first), so what the batch
reads after the lock stays true but for what the batch consumes itself, which it counts down
(`Found.consumed`). On PostgreSQL the voucher's conditional UPDATE stays the judge of what is left, as before.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from daodian.accounts.authz import Principal
from daodian.accounts.models import StaffMembership, StaffRole, User
from daodian.kit import codes
from daodian.kit.db import gathered, gathered_so_far, want
from daodian.kit.errors import NotAuthenticated
from daodian.kit.settings import Settings
from daodian.merchants import stores
from daodian.merchants.models import Store, StoreItem
from daodian.orders.models import Order, OrderLine
from daodian.vouchers import repository
from daodian.vouchers.errors import VoucherNotFound
from daodian.vouchers.events import BATCH_ORDER_IDS, BATCH_VOUCHER_IDS
from daodian.vouchers.models import Voucher

STAFF = "counter.staff"  # kinds of gathered lookups: user id -> Principal
STORES = "counter.stores"  # store id -> CounterStore
VOUCHERS = "counter.vouchers"  # (normalized code, store id) -> Found
FAILURES = "counter.failures"  # terminal key -> wrong codes within the throttle window

# Built once: building a statement per batch cost about as much as running it.
_STAFF = (select(User.id, User.display_name, User.is_operator, StaffMembership.merchant_id, StaffMembership.role)
          .outerjoin(StaffMembership, StaffMembership.user_id == User.id)
          .where(User.id.in_(bindparam("ids", expanding=True)), User.is_active.is_(True)))
_STORES = select(Store.id, Store.merchant_id, Store.timezone).where(Store.id.in_(bindparam("ids", expanding=True)))
_CODES = bindparam("codes", expanding=True)
# The orders of the codes, locked in id order before their vouchers are read (order before voucher, as refunds
# lock them).
_LOCK_ORDERS = (select(Order).where(Order.id.in_(select(Voucher.order_id).where(Voucher.code.in_(_CODES))))
                .order_by(Order.id).with_for_update().execution_options(populate_existing=True))
_OTHERS = aliased(Voucher)
# Each voucher with its line's name, the uses left in its whole order, and one row per store of the batch that
# offers its item (one row with None if none does).
_VOUCHERS = (select(Voucher, OrderLine.name,
                    select(func.sum(_OTHERS.uses_left)).where(_OTHERS.order_id == Voucher.order_id).scalar_subquery(),
                    StoreItem.store_id)
             .join(OrderLine, OrderLine.id == Voucher.order_line_id)
             .outerjoin(StoreItem, and_(StoreItem.item_id == Voucher.service_item_id,
                                        StoreItem.store_id.in_(bindparam("stores", expanding=True))))
             .where(Voucher.code.in_(_CODES)).execution_options(populate_existing=True))


@dataclass(frozen=True, slots=True)
class CounterStore:
    """What the counter needs of a store."""

    id: int
    merchant_id: int
    timezone: str


class Held:
    """A voucher's order, locked, and the uses left in all its vouchers (shared by the batch's vouchers of it)."""

    __slots__ = ("order", "uses_left")

    def __init__(self, order: Order, uses_left: int) -> None:
        self.order, self.uses_left = order, uses_left


@dataclass(frozen=True, slots=True)
class Found:
    """A code's voucher as read for a verification at `store_id`."""

    voucher: Voucher
    name: str  # its line's
    offered: bool  # the store offers its item
    held: Held

    def consumed(self) -> int:
        """This transaction consumed one use of the order's vouchers: what is left in it now."""
        self.held.uses_left -= 1
        return self.held.uses_left


def wants(user_id: int, raw_code: str, store_id: int, terminal_keys: list[str]) -> dict[str, list]:
    """What one verification will look up, for GroupCommit.run."""
    code = codes.normalize(raw_code)
    return {STAFF: [user_id], STORES: [store_id], VOUCHERS: [(code, store_id)] if code else [],
            FAILURES: terminal_keys}


def staff_principal(session: Session, user_id: int) -> Principal:
    """Who is at the counter, as accounts.service.principal_for says it (an account gone inactive: 401)."""
    principal = gathered(session, STAFF, user_id, partial(_principals, session))
    if principal is None:
        raise NotAuthenticated()
    return principal


def _principals(session: Session, user_ids: set[int]) -> dict[int, Principal]:
    users: dict[int, tuple[str, bool]] = {}
    roles: dict[int, dict[int, StaffRole]] = defaultdict(dict)
    for user_id, name, operator, merchant_id, role in session.connection().execute(_STAFF, {"ids": list(user_ids)}):
        users[user_id] = (name, operator)
        if merchant_id is not None:
            roles[user_id][merchant_id] = StaffRole(role)
    return {user_id: Principal(user_id=user_id, display_name=name, is_operator=operator, roles=roles[user_id])
            for user_id, (name, operator) in users.items()}


def store(session: Session, store_id: int) -> CounterStore:
    """The store, or `store_not_found`."""
    found = gathered(session, STORES, store_id, partial(_stores, session))
    if found is None:
        stores.get_store(session, store_id)  # raises the merchants domain's own error
    return found


def _stores(session: Session, ids: set[int]) -> dict[int, CounterStore]:
    return {row.id: CounterStore(*row) for row in session.connection().execute(_STORES, {"ids": list(ids)})}


def voucher(session: Session, raw_code: str, store_id: int) -> Found:
    """The voucher of a typed or scanned code as read for the store, or `voucher_not_found`."""
    code = codes.normalize(raw_code)
    found = gathered(session, VOUCHERS, (code, store_id), partial(_vouchers, session)) if code else None
    if found is None:
        raise VoucherNotFound()
    return found


def _vouchers(session: Session, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], Found]:
    codes_ = sorted({code for code, _ in wanted})
    # An order this batch holds already keeps its one count (read afresh below: the batch's own UPDATEs included).
    earlier = {found.held.order.id: found.held for found in (gathered_so_far(session, VOUCHERS) or {}).values()
               if found is not None}
    held = {o.id: earlier.get(o.id) or Held(o, 0) for o in session.scalars(_LOCK_ORDERS, {"codes": codes_})}
    by_code: dict[str, tuple[Voucher, str]] = {}
    offered: set[tuple[str, int]] = set()
    for v, name, left, store_id in session.execute(_VOUCHERS, {"codes": codes_,
                                                               "stores": sorted({s for _, s in wanted})}):
        by_code[v.code] = (v, name)
        held[v.order_id].uses_left = left or 0
        if store_id is not None:
            offered.add((v.code, store_id))
    want(session, BATCH_ORDER_IDS, held)  # for the events' handlers (vouchers.events)
    want(session, BATCH_VOUCHER_IDS, {v.id for v, _ in by_code.values()})
    return {(code, store_id): Found(v, name, (code, store_id) in offered, held[v.order_id])
            for code, store_id in wanted if code in by_code for v, name in [by_code[code]]}


def failures(session: Session, key: str, settings: Settings, now: datetime) -> int:
    """Wrong codes from a terminal within the throttle window (a batch reads its terminals' once, at its first
    verification, and counts on as it records more: `count_failure`)."""
    since = now - timedelta(minutes=settings.verification_throttle_minutes)
    return gathered(session, FAILURES, key,
                    lambda keys: repository.failures_by_terminal(session, list(keys), since)) or 0


def count_failure(session: Session, key: str) -> None:
    """A wrong code from `key` was recorded in this transaction: a batch's count of it goes up."""
    so_far = gathered_so_far(session, FAILURES)
    if so_far is not None and key in so_far:
        so_far[key] = (so_far[key] or 0) + 1
