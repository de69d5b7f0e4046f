"""What the vouchers domain tells the others (kit.events)."""

from dataclasses import dataclass
from datetime import datetime

from daodian.kit.events import Event
from daodian.orders.models import Order
from daodian.vouchers.models import Voucher


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
