"""How vouchers react to other domains' events."""

from sqlalchemy.orm import Session

from daodian.kit.events import publish
from daodian.orders import repository as orders_repository
from daodian.orders import states
from daodian.orders.events import OrderPaid
from daodian.orders.models import OrderKind, OrderStatus
from daodian.vouchers import service as vouchers
from daodian.vouchers.events import VouchersIssued


def issue_on_order_paid(session: Session, event: OrderPaid) -> None:
    """A paid service order gets one voucher per unit and moves on to voucher_issued."""
    order = event.order
    if order.kind != OrderKind.SERVICE:
        return
    lines = orders_repository.line_rows(session, order.id)
    voucher_ids = vouchers.issue(session, order, lines, event.settings, event.at)
    states.move(session, order, OrderStatus.VOUCHER_ISSUED, now=event.at)
    publish(session, VouchersIssued(order=order, voucher_ids=voucher_ids))
