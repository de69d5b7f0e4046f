"""How a booking is paid: the one seam between bookings and the rest of the orders domain.

- `pay_at_store`: nothing now; the sale is settled (and recorded as a consumption record) at the counter.
- `voucher`: one of the consumer's active vouchers for this very item, valid at the slot's start. The
  booking reserves it (a partial unique index lets a voucher back one live booking at a time); verifying
  it at the counter consumes the use and marks the booking attended (vouchers.counter.verify calls
  `bookings.on_voucher_verified`).
- `pay_online`: an ordinary service order for one of the slot's item at the slot's store is placed in the
  booking's transaction, and the booking holds its place meanwhile. The consumer pays that order like any
  other (POST /orders/{id}/pay, e.g. through the sandbox). When it is paid, orders.service calls
  `bookings.on_order_paid` and the voucher it issued backs the booking, exactly as with `voucher`. When it
  is cancelled or expires unpaid, `bookings.on_order_closed` gives the place back; a booking that finds
  its slot full first expires such overdue orders (`expire_unpaid_holders`). Cancelling the booking
  cancels an unpaid order; a paid one keeps its voucher (the consumer may book again with it, or refund it
  through POST /orders/{id}/refunds: refunds go through the provider that took the money).

Lock order: an order's row before its booking's slot, everywhere (payments, expiry, cancellation).
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal
from daodian.bookings import repository
from daodian.bookings.errors import VoucherAlreadyBooked, VoucherNotForSlot
from daodian.bookings.models import Booking, BookingPayment, BookingSlot
from daodian.bookings.schemas import BookingCreate
from daodian.kit.clock import utcnow
from daodian.kit.settings import Settings
from daodian.orders import repository as orders_repository
from daodian.orders import service as orders
from daodian.orders.models import OrderStatus
from daodian.orders.schemas import OrderCreate, OrderLineIn
from daodian.vouchers import service as vouchers
from daodian.vouchers.errors import VoucherExpired, VoucherNotFound, VoucherRefunded, VoucherUsedUp

_UNUSABLE = {"used_up": VoucherUsedUp, "refunded": VoucherRefunded, "expired": VoucherExpired}


def prepare(session: Session, principal: Principal, slot: BookingSlot, data: BookingCreate,
            settings: Settings) -> tuple[int | None, int | None]:
    """(voucher id, order id) backing a new booking; domain errors when the payment cannot back it."""
    if data.payment == BookingPayment.PAY_AT_STORE:
        return None, None
    if data.payment == BookingPayment.VOUCHER:
        return _reserve_voucher(session, principal, slot, data.voucher_code or ""), None
    order = orders.create_order(session, principal, OrderCreate(
        lines=[OrderLineIn(service_item_id=slot.service_item_id, quantity=1)], store_id=slot.store_id), settings)
    return None, order.id


def _reserve_voucher(session: Session, principal: Principal, slot: BookingSlot, code: str) -> int:
    voucher = vouchers.own_voucher(session, principal, code)
    if voucher.consumer_id != principal.user_id:  # operators may look at anyone's voucher, not book with it
        raise VoucherNotFound()
    if voucher.merchant_id != slot.merchant_id or voucher.service_item_id != slot.service_item_id:
        raise VoucherNotForSlot()
    state = vouchers.status(voucher, slot.starts_at)  # it must still be good when the slot starts
    if state != "active":
        raise _UNUSABLE[state]()
    if repository.active_booking_for_voucher(session, voucher.id) is not None:
        raise VoucherAlreadyBooked()
    return voucher.id


def lock(session: Session, bookings: Iterable[Booking]) -> None:
    """Lock the orders behind these bookings (in id order) before their slot is touched."""
    for order_id in sorted({b.order_id for b in bookings if b.order_id is not None}):
        orders_repository.order_for_update(session, order_id)


def expire_unpaid_holders(session: Session, slot_id: int, now: datetime | None = None) -> int:
    """Expire the overdue unpaid orders of the slot's `pay_online` bookings; how many places came back."""
    now = now or utcnow()
    released = 0
    for order_id in repository.unpaid_order_ids_of_slot(session, slot_id):
        order = orders_repository.order_for_update(session, order_id)
        if order is not None and orders.is_due(order, now):
            released += orders.expire(session, order, now)  # calls bookings.on_order_closed
    return released


def discard(session: Session, order_id: int | None) -> None:
    """Cancel an order prepare() made for a booking that was not made after all (a racing retry won)."""
    if order_id is not None:
        orders.close_unpaid(session, orders.get_order(session, order_id), by_user_id=None)


def release(session: Session, booking: Booking, *, refund: bool) -> None:
    """Undo what prepare() arranged when the booking is cancelled (its order is locked: see `lock`).

    A voucher is freed by the booking leaving status booked (the partial unique index no longer counts it).
    An unpaid order is cancelled with the booking; a paid one keeps its voucher, whatever `refund` says:
    the money goes back only when the consumer asks for it (POST /orders/{id}/refunds).
    """
    if booking.order_id is None:
        return
    order = orders.get_order(session, booking.order_id)
    if order.status == OrderStatus.CREATED:
        orders.close_unpaid(session, order, by_user_id=booking.cancelled_by)
