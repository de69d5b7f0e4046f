"""What the vouchers domain tells the others (kit.events)."""

from dataclasses import dataclass
from datetime import datetime

from daodian.kit.events import Event
from daodian.orders.models import Order
from daodian.vouchers.models import Voucher

# Keys a batch of verifications announces (kit.db.want) as it finds its vouchers: their orders' ids and their
# own. A handler of VoucherVerifying or VoucherVerified reads what it needs for the whole batch at once with
# kit.db.gathered(..., keys_from=...), instead of one query per verification.
BATCH_ORDER_IDS = "vouchers.verifying.order_ids"
BATCH_VOUCHER_IDS = "vouchers.verifying.voucher_ids"


@dataclass(frozen=True)
class VouchersIssued(Event):
    """A paid service order's vouchers exist now (a booking paid online is backed by one of them)."""

    order: Order
    voucher_ids: list[int]


@dataclass(frozen=True)
class VoucherVerifying(Event):
    """A voucher is about to be verified at a store: a handler refuses by raising a domain error
    (a group-buy voucher before its deal succeeded)."""

    voucher: Voucher
    zone: str
    at: datetime


@dataclass(frozen=True)
class VoucherVerified(Event):
    """One use was consumed at the counter (a booking it backs is attended)."""

    voucher: Voucher
    by_user_id: int
