"""Wiring: which domain reacts to which event, in one place (docs/architecture.md has the table).

`wire()` runs once per process before any unit of work: the app factory, the CLI and the test suite
call it. Handlers of one event run in the order listed here.
"""

from daodian.bookings import handlers as bookings
from daodian.c2b import handlers as c2b
from daodian.c2b.group_buy import vouchers as group_buy_vouchers
from daodian.checkout import handlers as checkout
from daodian.kit import events
from daodian.kit.ops import metrics
from daodian.loyalty import handlers as loyalty
from daodian.orders.events import OrderClosed, OrderPaid, OrderPlaced
from daodian.payments.events import RefundSucceeded
from daodian.records.events import ConsumptionRecorded
from daodian.vouchers import deals as voucher_deals
from daodian.vouchers import handlers as vouchers
from daodian.vouchers.events import VouchersIssued, VoucherVerified, VoucherVerifying

SUBSCRIPTIONS = [
    (OrderPlaced, checkout.apply_discounts),
    (OrderPaid, loyalty.earn_on_order_paid),
    (OrderPaid, vouchers.issue_on_order_paid),
    (VouchersIssued, bookings.back_with_voucher),
    (OrderClosed, checkout.release_on_close),
    (OrderClosed, bookings.release_place),
    (VoucherVerifying, c2b.refuse_undecided_deal),
    (VoucherVerified, bookings.mark_attended),
    (RefundSucceeded, checkout.release_on_full_refund),
    (RefundSucceeded, loyalty.take_back_on_refund),
    (ConsumptionRecorded, loyalty.earn_on_consumption_recorded),
    # Operators' counters (kit.ops.metrics), counted when the change commits.
    (OrderPaid, metrics.counting(metrics.PAYMENTS)),
    (VoucherVerified, metrics.counting(metrics.VERIFICATIONS)),
]


def wire() -> None:
    """Subscribe every handler (idempotent) and plug the cross-domain lookups."""
    for event_type, handler in SUBSCRIPTIONS:
        events.subscribe(event_type, handler)
    voucher_deals.answer_with(group_buy_vouchers.deals_of_orders)
    events.mark_wired()
