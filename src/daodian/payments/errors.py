"""Payment and refund errors, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, DomainError, Invalid, NotFound


class PaymentNotFound(NotFound):
    code, message = "payment_not_found", "No such payment."


class AmountMismatch(DomainError):
    status, code, message = 400, "amount_mismatch", "The notified amount differs from the payment's amount."


class OrderNotRefundable(Conflict):
    code, message = "order_not_refundable", "Nothing was paid on this order, or it is already fully refunded."


class RefundExceedsRemaining(Invalid):
    code, message = "refund_exceeds_remaining", "The refund is larger than what was paid and not yet refunded."


class VoucherNotRefundable(Conflict):
    code, message = "voucher_not_refundable", "This voucher has no unused uses left to refund."


class NothingToRefund(Conflict):
    code, message = "nothing_to_refund", "Every voucher use of this order was used or refunded already."


class RefundAmountMismatch(Invalid):
    code, message = "refund_amount_mismatch", "Service orders refund whole voucher uses; the amount must match them."


class RefundNeedsMerchant(Conflict):
    code = "refund_needs_merchant"
    message = "Once goods are handed over, refunds are made by the merchant's managers."
