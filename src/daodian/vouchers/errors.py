"""Voucher and verification errors, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, Invalid, NotFound, TooManyRequests


class VoucherNotFound(NotFound):
    code, message = "voucher_not_found", "No voucher has this code; check it and try again."


class VoucherUsedUp(Conflict):
    code, message = "voucher_used_up", "This voucher has already been used."


class VoucherExpired(Conflict):
    code, message = "voucher_expired", "This voucher has expired."


class VoucherRefunded(Conflict):
    code, message = "voucher_refunded", "This voucher was refunded."


class VoucherForeignStore(Invalid):
    code, message = "voucher_foreign_store", "This voucher cannot be redeemed at this store."


class VerificationThrottled(TooManyRequests):
    code, message = "verification_throttled", "Too many wrong codes from this terminal; wait a few minutes."


class VerificationNotFound(NotFound):
    code, message = "verification_not_found", "No such verification."


class AlreadyReversed(Conflict):
    code, message = "verification_already_reversed", "This verification was already reversed."


class ReversalWindowPassed(Conflict):
    code, message = "reversal_window_passed", "This verification is too old to be reversed."
