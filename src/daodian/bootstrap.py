"""Wiring: which domain reacts to which event, in one place (docs/architecture.md has the table).

`wire()` runs once per process before any unit of work: the app factory, the CLI and the test suite
call it. Handlers of one event run in the order listed here.
"""

from daodian.apps.plugs import plug as plug_apps
from daodian.bookings import handlers as bookings
from daodian.c2b import handlers as c2b
from daodian.c2b.group_buy import vouchers as group_buy_vouchers
from daodian.catalog.photo_owners import product_owner
from daodian.checkout import handlers as checkout
from daodian.delivery import handlers as delivery
from daodian.kit import events
from daodian.kit.ops import metrics
from daodian.loyalty import handlers as loyalty
from daodian.media import owners as photo_owners
from daodian.media.models import OwnerKind
from daodian.merchants.photo_owners import service_item_owner, store_owner
from daodian.orders.events import OrderClosed, OrderPaid, OrderPlaced
from daodian.payments.events import RefundSucceeded
from daodian.records.events import ConsumptionRecorded
from daodian.records.photo_owners import review_owner
from daodian.vouchers import deals as voucher_deals
from daodian.vouchers import handlers as vouchers
from daodian.vouchers.events import VouchersIssued, VoucherVerified, VoucherVerifying

SUBSCRIPTIONS = [
    (OrderPlaced, checkout.apply_discounts),
    (OrderPaid, loyalty.earn_on_order_paid),
    (OrderPaid, vouchers.issue_on_order_paid),
    (OrderPaid, delivery.open_on_order_paid),
    (VouchersIssued, bookings.back_with_voucher),
    (OrderClosed, checkout.release_on_close),
    (OrderClosed, bookings.release_place),
    (VoucherVerifying, c2b.refuse_undecided_deal),
    (VoucherVerified, bookings.mark_attended),
    (RefundSucceeded, checkout.release_on_full_refund),
    (RefundSucceeded, loyalty.take_back_on_refund),
    (RefundSucceeded, delivery.cancel_on_refund),
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
    for kind, lookup in ((OwnerKind.STORE, store_owner), (OwnerKind.SERVICE_ITEM, service_item_owner),
                         (OwnerKind.PRODUCT, product_owner), (OwnerKind.REVIEW, review_owner)):
        photo_owners.answer_with(kind, lookup)  # whose photos these are (media sits below their domains)
    plug_apps()  # apps' tokens in the principal lookup, their rate limits after their scopes
    events.mark_wired()
