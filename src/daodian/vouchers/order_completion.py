"""A service order follows its vouchers: completed once no use is left, reopened when a use comes back.

Called inside the transaction that changed the uses: a verification at the counter, a refund (payments).
"""

from sqlalchemy.orm import Session

from daodian.orders import service as orders
from daodian.orders import states
from daodian.orders.models import Order, OrderKind, OrderStatus
from daodian.vouchers import repository
from daodian.vouchers.models import Voucher

S = OrderStatus


def after_uses_changed(session: Session, order: Order, *, uses_left: int | None = None) -> None:
    """A service order is completed once no voucher use is left, and reopened when a use comes back.
    `uses_left`: what its vouchers have left, if the caller (holding the order's lock) counted it already."""
    if order.kind != OrderKind.SERVICE:
        return
    left = repository.uses_left_in_order(session, order.id) if uses_left is None else uses_left
    if left == 0 and order.status == S.VOUCHER_ISSUED:
        orders.complete(session, order, S.COMPLETED)
    elif left > 0 and order.status == S.COMPLETED:
        states.move(session, order, S.VOUCHER_ISSUED)


def settle_refund(session: Session, order: Order, *, refunded_fen_succeeded: int) -> None:
    """After a refund succeeded: everything paid is back -> refunded; else service orders may complete."""
    if refunded_fen_succeeded >= order.paid_fen > 0 and states.can(order.status, S.REFUNDED):
        states.move(session, order, S.REFUNDED)
    else:
        after_uses_changed(session, order)


def order_vouchers(session: Session, order_id: int) -> list[Voucher]:
    return repository.vouchers_of_order(session, order_id)
