"""What the order, counter and booking pages say for each domain error code (msgids, translated in templates).

The API's messages are English sentences for developers; a page shows these instead, in the page's language.
"""

from daodian.kit.errors import DomainError
from daodian.kit.html.forms import N_

MESSAGES = {
    # placing and paying orders
    "out_of_stock": N_("Sorry, not enough stock is left."),
    "not_for_sale": N_("This is not for sale at the moment."),
    "unknown_line_item": N_("This is not for sale at the moment."),
    "invalid_store": N_("Choose one of the offered stores."),
    "store_not_found": N_("Choose one of the offered stores."),
    "store_does_not_offer": N_("That store does not offer this service."),
    "invalid_fulfilment": N_("Choose delivery with an address, or pickup at a store."),
    "order_expired": N_("This order was not paid in time and has expired."),
    "order_not_payable": N_("This order cannot be paid any more."),
    "provider_unavailable": N_("Online payment is not available at the moment."),
    "provider_error": N_("The payment provider did not answer; try again in a moment."),
    "idempotency_in_progress": N_("Your last tap is still being processed; wait a moment."),
    "idempotency_key_reused": N_("This form was already sent; reload the page and try again."),
    "invalid_transition": N_("This order cannot be changed any more."),
    # coupons and points at checkout
    "coupon_unusable": N_("That coupon cannot be used for this order."),
    "coupon_used": N_("That coupon has already been used."),
    "coupon_expired": N_("That coupon has expired."),
    "coupon_not_found": N_("That coupon is not yours or does not exist."),
    "insufficient_points": N_("You do not have that many points."),
    "points_exceed_total": N_("These points are worth more than is left to pay; use fewer."),
    # the counter
    "voucher_not_found": N_("Wrong code: no voucher has this code. Check it and try again."),
    "voucher_used_up": N_("Already used: this voucher has no uses left."),
    "voucher_expired": N_("Expired: this voucher can no longer be used."),
    "voucher_refunded": N_("Refunded: this voucher was refunded and cannot be used."),
    "voucher_foreign_store": N_("Not valid here: this voucher is for another merchant or a service this store does not offer."),
    "verification_throttled": N_("Too many wrong codes from this counter; wait a few minutes."),
    "verification_already_reversed": N_("This verification was already reversed."),
    "reversal_window_passed": N_("This verification is too old to be reversed."),
    "group_buy_pending": N_("Group buy not decided yet: this voucher works only once the deal has succeeded."),
    # bookings
    "slot_full": N_("This time is fully booked; pick another."),
    "slot_closed": N_("This time is no longer offered."),
    "slot_started": N_("This time has already started."),
    "slot_not_started": N_("A no-show can only be recorded after the booked time has started."),
    "too_many_no_shows": N_("You missed too many bookings recently; book with a voucher or pay online."),
    "voucher_not_for_slot": N_("That voucher is for another service."),
    "voucher_already_booked": N_("That voucher already backs another booking."),
    "cancellation_window_passed": N_("It is too late to cancel this booking online; call the store."),
    "booking_not_active": N_("This booking was already settled."),
    # refunds asked for on the order page
    "refund_requested": N_("Your refund request was sent; the money goes back the way you paid."),
    "refund_reason_required": N_("Pick a reason for the refund."),
    "order_not_refundable": N_("This order cannot be refunded any more."),
    "nothing_to_refund": N_("Every voucher of this order was used or refunded already."),
    "refund_needs_merchant": N_("This order was already handed over; ask the shop for a refund."),
    "refund_exceeds_remaining": N_("This order was already refunded."),
}
GENERIC = N_("This could not be done. Reload the page and try again.")


def message_for(error: DomainError) -> str:
    return MESSAGES.get(error.code, GENERIC)
