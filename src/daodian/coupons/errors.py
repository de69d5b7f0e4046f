"""Marketing errors, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, Invalid, NotFound


class TemplateNotFound(NotFound):
    code, message = "coupon_template_not_found", "No such coupon."


class CouponNotFound(NotFound):
    code, message = "coupon_not_found", "No coupon has this code; check it and try again."


class SoldOut(Conflict):
    code, message = "coupon_sold_out", "All of these coupons have been claimed."


class ClaimLimitReached(Conflict):
    code, message = "coupon_limit_reached", "You already hold as many of these coupons as one person may."


class NotClaimable(Conflict):
    code, message = "coupon_not_claimable", "This coupon cannot be claimed now."


class CouponUnusable(Conflict):
    code, message = "coupon_unusable", "This coupon cannot be used here."


class CouponUsed(Conflict):
    code, message = "coupon_used", "This coupon has already been used."


class CouponExpired(Conflict):
    code, message = "coupon_expired", "This coupon has expired."


class TemplateInvalid(Invalid):
    code, message = "invalid_coupon_template", "This coupon template does not add up."


