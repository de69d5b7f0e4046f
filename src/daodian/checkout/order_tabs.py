"""The tabs of "my orders": 全部 all, 待付款 waiting for payment, 待使用 paid and not used yet, 待评价 visited
and not reviewed, 退款售后 refunds. Each tab is a filter on the consumer's own orders query."""

from sqlalchemy import Select, exists, select

from daodian.kit.html.forms import N_
from daodian.orders.models import Order, OrderStatus
from daodian.payments.models import Refund
from daodian.records.models import Review
from daodian.vouchers.models import Verification, Voucher

TABS = {"all": N_("All"), "unpaid": N_("Unpaid"), "to_use": N_("To use"), "to_review": N_("To review"),
        "refunds": N_("Refunds and after-sales")}

_VISIT_NOT_REVIEWED = (
    select(Verification.id).join(Voucher, Voucher.id == Verification.voucher_id)
    .where(Voucher.order_id == Order.id, Verification.reversed_at.is_(None),
           ~exists().where(Review.verification_id == Verification.id))
)


def pick(raw: str | None) -> str:
    return raw if raw in TABS else "all"


def filtered(stmt: Select, tab: str) -> Select:
    if tab == "unpaid":
        return stmt.where(Order.status == OrderStatus.CREATED)
    if tab == "to_use":
        return stmt.where(Order.status.in_((OrderStatus.PAID, OrderStatus.VOUCHER_ISSUED)))
    if tab == "to_review":
        return stmt.where(exists(_VISIT_NOT_REVIEWED))
    if tab == "refunds":
        return stmt.where((Order.refunded_fen > 0) | exists().where(Refund.order_id == Order.id))
    return stmt
