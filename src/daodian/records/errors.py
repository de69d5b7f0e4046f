from daodian.kit.errors import Conflict, Forbidden, Invalid, NotFound


class ReceiptConflict(Conflict):
    code = "receipt_conflict"
    message = "This receipt id was already recorded with different content."


class LineNotOfMerchant(Invalid):
    code = "line_not_of_merchant"
    message = "Some lines name a SKU or service item that this merchant does not sell."


class MemberNotFound(Invalid):
    code = "member_not_found"
    message = "No member matches this phone number, member code or voucher; record the sale without a member."


class ReviewBasisNotFound(NotFound):
    code = "review_basis_not_found"
    message = "There is no consumption record or verified voucher of yours with this id."


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    message = "You have already reviewed this visit."


class ProductRatingRequired(Invalid):
    code = "product_rating_required"
    message = "This visit included products; rate them too (rating_product 1-5)."


class StaffCannotReview(Forbidden):
    code = "staff_cannot_review"
    message = "Staff may not review their own merchant's stores."


class ReviewNotFound(NotFound):
    code = "review_not_found"
    message = "No such review."
