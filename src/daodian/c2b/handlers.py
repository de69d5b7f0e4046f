"""How C2B deals react to other domains' events."""

from sqlalchemy.orm import Session

from daodian.c2b.group_buy import vouchers as group_buy_vouchers
from daodian.vouchers.events import VoucherVerifying


def refuse_undecided_deal(session: Session, event: VoucherVerifying) -> None:
    """Nothing of a group-buy join is consumed before its deal has succeeded."""
    group_buy_vouchers.check_redeemable(session, event.voucher.order_id, zone=event.zone, now=event.at)
