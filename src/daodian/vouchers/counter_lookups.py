"""What a verification at the counter reads before it writes: the clerk, the voucher with its line's name,
its order (locked) with the uses left in it, the terminals' wrong codes, the store. Gathered for a batch of verifications (kit.api.group_commit, kit.db
.gathered): the batch's first verification reads them for all, one query per kind, and the others find
theirs; a verification outside a batch reads its own, one query each.

These reads happen in the verification's transaction (on SQLite under the write lock: nobody else writes
meanwhile; on PostgreSQL the voucher's conditional UPDATE stays the judge of what is left, as before). A
batch locks the orders of all its vouchers at once, in id order, so two batches never deadlock on them;
with its orders locked, nobody else can change how many uses are left in them (refunds and reversals
lock the order first), so the batch counts those down itself (`uses_consumed`).
"""

from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal
from daodian.accounts.models import StaffMembership, StaffRole, User
from daodian.kit import codes
from daodian.kit.db import gathered, gathered_so_far, remembered, want
from daodian.kit.errors import NotAuthenticated
from daodian.kit.settings import Settings
from daodian.merchants import stores
from daodian.merchants.models import Store
from daodian.orders import repository as orders_repository
from daodian.orders.models import Order, OrderLine
from daodian.vouchers import repository
from daodian.vouchers.errors import VoucherNotFound
from daodian.vouchers.events import BATCH_ORDER_IDS, BATCH_VOUCHER_IDS
from daodian.vouchers.models import Voucher

STAFF = "counter.staff"  # kinds of gathered lookups: user id -> Principal
VOUCHERS = "counter.vouchers"  # normalized code -> (Voucher, its line's name)
FAILURES = "counter.failures"  # terminal key -> wrong codes within the throttle window
ORDERS = "counter.orders"  # order id -> [the order, locked; uses left in its vouchers]

_USERS = select(User.id, User.display_name, User.is_operator).where(
    User.id.in_(bindparam("ids", expanding=True)), User.is_active.is_(True))
_ROLES = select(StaffMembership.user_id, StaffMembership.merchant_id, StaffMembership.role).where(
    StaffMembership.user_id.in_(bindparam("ids", expanding=True)))
_VOUCHERS = (select(Voucher, OrderLine.name).join(OrderLine, OrderLine.id == Voucher.order_line_id)
             .where(Voucher.code.in_(bindparam("codes", expanding=True))).execution_options(populate_existing=True))
_ORDERS = (select(Order).where(Order.id.in_(bindparam("ids", expanding=True))).order_by(Order.id).with_for_update()
           .execution_options(populate_existing=True))
_USES_LEFT = (select(Voucher.order_id, func.sum(Voucher.uses_left))
              .where(Voucher.order_id.in_(bindparam("ids", expanding=True))).group_by(Voucher.order_id))


def wants(user_id: int, raw_code: str, terminal_keys: list[str]) -> dict[str, list]:
    """What one verification will look up, for GroupCommit.run."""
    code = codes.normalize(raw_code)
    return {STAFF: [user_id], VOUCHERS: [code] if code else [], FAILURES: terminal_keys}


def staff_principal(session: Session, user_id: int) -> Principal:
    """Who is at the counter, as accounts.service.principal_for says it (an account gone inactive: 401)."""
    principal = gathered(session, STAFF, user_id, partial(_principals, session))
    if principal is None:
        raise NotAuthenticated()
    return principal


def _principals(session: Session, user_ids: set[int]) -> dict[int, Principal]:
    connection = session.connection()
    roles: dict[int, dict[int, StaffRole]] = defaultdict(dict)
    for user_id, merchant_id, role in connection.execute(_ROLES, {"ids": list(user_ids)}):
        roles[user_id][merchant_id] = StaffRole(role)
    return {user_id: Principal(user_id=user_id, display_name=name, is_operator=operator, roles=roles[user_id])
            for user_id, name, operator in connection.execute(_USERS, {"ids": list(user_ids)})}


def voucher(session: Session, raw_code: str) -> tuple[Voucher, str]:
    """The voucher of a typed or scanned code and its line's name, or `voucher_not_found`."""
    code = codes.normalize(raw_code)
    found = gathered(session, VOUCHERS, code, partial(_vouchers, session)) if code else None
    if found is None:
        raise VoucherNotFound()
    return found


def _vouchers(session: Session, wanted: set[str]) -> dict[str, tuple[Voucher, str]]:
    found = {v.code: (v, name) for v, name in session.execute(_VOUCHERS, {"codes": list(wanted)})}
    order_ids = {v.order_id for v, _ in found.values()}
    want(session, ORDERS, order_ids)
    want(session, BATCH_ORDER_IDS, order_ids)  # for the events' handlers (vouchers.events)
    want(session, BATCH_VOUCHER_IDS, {v.id for v, _ in found.values()})
    return found


def order(session: Session, voucher: Voucher) -> tuple[Order, int]:
    """The voucher's order, locked until the transaction ends (order before voucher, as refunds lock them),
    and how many uses its vouchers have left."""
    locked, uses_left = gathered(session, ORDERS, voucher.order_id, partial(_orders, session))
    return locked, uses_left


def uses_consumed(session: Session, order_id: int) -> None:
    """This transaction consumed one use of the order's vouchers: the batch's count of what is left goes down."""
    so_far = gathered_so_far(session, ORDERS)
    if so_far is not None and so_far.get(order_id) is not None:
        so_far[order_id][1] -= 1


def _orders(session: Session, ids: set[int]) -> dict[int, list]:
    locked = {o.id: o for o in session.scalars(_ORDERS, {"ids": sorted(ids)})}
    left = {order_id: uses for order_id, uses in session.execute(_USES_LEFT, {"ids": sorted(ids)})}
    return {order_id: [o, left.get(order_id, 0)] for order_id, o in locked.items()}


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


def store(session: Session, store_id: int) -> Store:
    return remembered(session, ("counter.store", store_id), lambda: stores.get_store(session, store_id))


def offered(session: Session, store_id: int, item_id: int) -> bool:
    return remembered(session, ("counter.offered", store_id, item_id),
                      lambda: bool(orders_repository.items_offered_at(session, store_id, {item_id})))
