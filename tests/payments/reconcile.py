"""The books must balance: one helper every concurrency test calls after its race.

Money: the payments that succeeded, less the refunds not failed (in flight or done), equal what the
orders say they were paid less what they say was refunded — in total and order by order. A late payment
(money for an order no longer payable) belongs to no order and is refunded whole, so it nets to zero.
Counts: a paid service order issued one voucher per unit bought; every voucher's uses add up (verified and
not reversed + left + refunded = total); every slot's `booked` is the number of bookings holding a place.
"""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.bookings.models import Booking, BookingSlot, BookingStatus
from daodian.orders.models import Order, OrderKind, OrderLine, OrderStatus
from daodian.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from daodian.vouchers.models import Verification, Voucher

PAID = {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.VOUCHER_ISSUED, OrderStatus.COMPLETED,
        OrderStatus.REFUNDED}
HOLDING = (BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW)


@dataclass(frozen=True)
class Books:
    payments_fen: int  # succeeded payments
    refunds_fen: int  # refunds not failed
    orders_paid_fen: int
    orders_refunded_fen: int
    paid_orders: int
    vouchers: int
    verifications: int
    bookings: int


def assert_books_balance(session: Session, merchant_ids: set[int]) -> Books:
    """Check every invariant above for these merchants' orders, vouchers and slots; returns the totals."""
    session.expire_all()  # read what the server committed, not what this session saw before
    orders = list(session.scalars(select(Order).where(Order.merchant_id.in_(merchant_ids))))
    order_ids = [o.id for o in orders]
    payments = list(session.scalars(select(Payment).where(Payment.order_id.in_(order_ids))))
    refunds = list(session.scalars(select(Refund).where(Refund.order_id.in_(order_ids),
                                                        Refund.status != RefundStatus.FAILED)))
    succeeded = [p for p in payments if p.status == PaymentStatus.SUCCEEDED]

    refunded_of_payment: dict[int, int] = defaultdict(int)
    for r in refunds:
        refunded_of_payment[r.payment_id] += r.amount_fen
    for p in payments:
        assert p.refunded_fen == refunded_of_payment[p.id], f"payment {p.id}: refunded_fen {p.refunded_fen}"
        if p.late:
            assert p.status == PaymentStatus.SUCCEEDED and p.refunded_fen == p.amount_fen, f"late payment {p.id}"

    paid_by_order: dict[int, list[Payment]] = defaultdict(list)
    for p in succeeded:
        if not p.late:
            paid_by_order[p.order_id].append(p)
    refunded_by_order: dict[int, int] = defaultdict(int)
    for r in refunds:
        refunded_by_order[r.order_id] += r.amount_fen
    late_fen = sum(p.amount_fen for p in succeeded if p.late)
    for o in orders:
        taken = paid_by_order[o.id]
        assert len(taken) <= 1, f"order {o.id} was paid {len(taken)} times"
        if o.status in PAID:
            assert len(taken) == 1 and o.paid_fen == o.total_fen == taken[0].amount_fen, f"order {o.id}: {o.status}"
        else:
            assert not taken and o.paid_fen == 0, f"order {o.id} is {o.status} yet holds money"
        assert o.refunded_fen == refunded_by_order[o.id] - sum(p.amount_fen for p in payments
                                                              if p.late and p.order_id == o.id), f"order {o.id}"

    books = Books(
        payments_fen=sum(p.amount_fen for p in succeeded), refunds_fen=sum(r.amount_fen for r in refunds),
        orders_paid_fen=sum(o.paid_fen for o in orders), orders_refunded_fen=sum(o.refunded_fen for o in orders),
        paid_orders=sum(o.status in PAID for o in orders), vouchers=0, verifications=0, bookings=0)
    # The headline: sum of payments = sum of paid orders minus refunds (late payments net to zero).
    assert books.payments_fen - books.refunds_fen == books.orders_paid_fen - books.orders_refunded_fen, books
    assert books.payments_fen - late_fen == books.orders_paid_fen, books

    vouchers = list(session.scalars(select(Voucher).where(Voucher.order_id.in_(order_ids))))
    units = dict(session.execute(select(OrderLine.order_id, func.sum(OrderLine.quantity))
                                 .where(OrderLine.order_id.in_(order_ids), OrderLine.service_item_id.is_not(None))
                                 .group_by(OrderLine.order_id)).all())
    issued: dict[int, int] = defaultdict(int)
    for v in vouchers:
        issued[v.order_id] += 1
    for o in orders:
        if o.kind == OrderKind.SERVICE:
            assert issued[o.id] == (units.get(o.id, 0) if o.paid_fen else 0), f"order {o.id}: {issued[o.id]} vouchers"
    used = dict(session.execute(select(Verification.voucher_id, func.count())
                                .where(Verification.voucher_id.in_([v.id for v in vouchers]),
                                       Verification.reversed_at.is_(None))
                                .group_by(Verification.voucher_id)).all())
    for v in vouchers:
        assert used.get(v.id, 0) + v.uses_left + v.refunded_uses == v.uses_total, f"voucher {v.id} uses"
        assert v.uses_left >= 0

    slots = list(session.scalars(select(BookingSlot).where(BookingSlot.merchant_id.in_(merchant_ids))))
    holding = dict(session.execute(select(Booking.slot_id, func.count())
                                   .where(Booking.slot_id.in_([s.id for s in slots]), Booking.status.in_(HOLDING))
                                   .group_by(Booking.slot_id)).all())
    for s in slots:
        assert 0 <= s.booked <= s.capacity and s.booked == holding.get(s.id, 0), f"slot {s.id}: booked {s.booked}"
    return Books(**{**books.__dict__, "vouchers": len(vouchers), "verifications": sum(used.values()),
                    "bookings": sum(holding.values())})
