"""How bookings react to other domains' events: a booking paid online follows its order and its voucher."""

from sqlalchemy.orm import Session

from daodian.bookings import service as bookings
from daodian.orders.events import OrderClosed
from daodian.vouchers.events import VouchersIssued, VoucherVerified


def back_with_voucher(session: Session, event: VouchersIssued) -> None:
    bookings.on_order_paid(session, event.order.id, event.voucher_ids)  # a booking paid online


def release_place(session: Session, event: OrderClosed) -> None:
    bookings.on_order_closed(session, event.order.id)  # a place held for the unpaid order goes back


def mark_attended(session: Session, event: VoucherVerified) -> None:
    bookings.on_voucher_verified(session, event.voucher.id, event.by_user_id)
