"""How a booking is paid: the one seam between bookings and the rest of the orders domain.

- `pay_at_store`: nothing now; the sale is settled (and recorded as a consumption record) at the counter.
- `voucher`: one of the consumer's active vouchers for this very item, valid at the slot's start. The
  booking reserves it (a partial unique index lets a voucher back one live booking at a time); verifying
  it at the counter consumes the use and should mark the booking attended: orders.counter.verify is
  expected to call `bookings.on_voucher_verified(session, voucher_id, by_user_id)`.
- `pay_online`: not yet. It needs an order created with the booking (orders.service.create_order) and
  two calls back from orders: when that order is paid, `bookings.on_order_paid(...)` (link the voucher
  it issued), and when it expires or is cancelled, a release of the place. Until then: 422.
"""

from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal
from daodian.orders import booking_repository as repository
from daodian.orders import vouchers
from daodian.orders.booking_errors import PaymentMethodUnavailable, VoucherAlreadyBooked, VoucherNotForSlot
from daodian.orders.booking_models import Booking, BookingPayment, BookingSlot
from daodian.orders.booking_schemas import BookingCreate
from daodian.orders.errors import VoucherExpired, VoucherNotFound, VoucherRefunded, VoucherUsedUp

_UNUSABLE = {"used_up": VoucherUsedUp, "refunded": VoucherRefunded, "expired": VoucherExpired}


def prepare(session: Session, principal: Principal, slot: BookingSlot,
            data: BookingCreate) -> tuple[int | None, int | None]:
    """(voucher id, order id) backing a new booking; domain errors when the payment cannot back it."""
    if data.payment == BookingPayment.PAY_AT_STORE:
        return None, None
    if data.payment == BookingPayment.VOUCHER:
        return _reserve_voucher(session, principal, slot, data.voucher_code or ""), None
    raise PaymentMethodUnavailable(details={"payment": data.payment.value})


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


def release(session: Session, booking: Booking, *, refund: bool) -> None:
    """Undo what prepare() arranged when the booking is cancelled. A voucher is freed by the booking leaving
    status booked (the partial unique index no longer counts it); an order would be cancelled here."""
