"""Vouchers of group-buy joins wait for their deal: nothing is consumed before the deal has succeeded.

A join's order is paid at the top price and its vouchers are issued at payment, like any service order;
but until settlement has fixed the outcome as a success (status `settled`), counter verification refuses
them with `group_buy_pending` (409): a deal that then fails refunds everyone in full, which must not
include services already consumed. A failed deal's vouchers are voided by settlement (group_buy
`_settle_join`) and refused as `voucher_refunded`; here a failed deal is refused the same way even if a
refused refund put the uses back. Ordinary vouchers have no join: one lookup on the unique
`group_buy_joins.order_id` finds nothing and nothing changes for them.

`settled` and `failed` are final, so a verification that read `settled` cannot race a settlement.
This module imports no order service, so vouchers.counter and vouchers.service may call it.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from daodian.c2b.group_buy.errors import GroupBuyPending
from daodian.c2b.group_buy.models import GroupBuy, GroupBuyJoin, GroupBuyStatus
from daodian.kit.db import gathered
from daodian.vouchers.errors import VoucherRefunded
from daodian.vouchers.events import BATCH_ORDER_IDS

Outcome = Literal["pending", "succeeded", "failed"]
_OUTCOMES: dict[str, Outcome] = {GroupBuyStatus.OPEN: "pending", GroupBuyStatus.SETTLING: "pending",
                                 GroupBuyStatus.SETTLED: "succeeded", GroupBuyStatus.FAILED: "failed"}


@dataclass(frozen=True)
class VoucherDeal:
    """The group buy an order joined, as far as its vouchers care."""

    group_buy_id: int
    status: GroupBuyStatus
    ends_at: datetime

    @property
    def outcome(self) -> Outcome:
        return _OUTCOMES[self.status]


def _query():
    return select(GroupBuyJoin.order_id, GroupBuy.id, GroupBuy.status, GroupBuy.ends_at) \
        .join(GroupBuy, GroupBuy.id == GroupBuyJoin.group_buy_id)


# Built once: a verification asks for every voucher, and building the statement cost as much as running it.
_DEALS_OF_ORDERS = (select(GroupBuyJoin.order_id, GroupBuy.id, GroupBuy.status, GroupBuy.ends_at)
                    .join(GroupBuy, GroupBuy.id == GroupBuyJoin.group_buy_id)
                    .where(GroupBuyJoin.order_id.in_(bindparam("order_ids", expanding=True))))
DEALS = "c2b.group_buy.deal_of_order"  # a kind of kit.db.gathered lookup: order id -> VoucherDeal


def deal_of_order(session: Session, order_id: int) -> VoucherDeal | None:
    """The deal whose join this order pays, or None for an ordinary order (one indexed lookup)."""
    row = session.execute(_query().where(GroupBuyJoin.order_id == order_id)).first()
    return VoucherDeal(row.id, GroupBuyStatus(row.status), row.ends_at) if row is not None else None


def deals_of_orders(session: Session, order_ids: set[int]) -> dict[int, VoucherDeal]:
    """The deals of many orders in one query, by order id; ordinary orders are absent."""
    if not order_ids:
        return {}
    rows = session.execute(_DEALS_OF_ORDERS, {"order_ids": list(order_ids)})
    return {row.order_id: VoucherDeal(row.id, GroupBuyStatus(row.status), row.ends_at) for row in rows}


def check_redeemable(session: Session, order_id: int, *, zone: str, now: datetime) -> None:
    """Raise unless a voucher of this order may be consumed as far as group buys go: ordinary orders and
    joins of a deal that succeeded pass; an undecided deal gives `group_buy_pending` (409) with its close
    in the store's local time (`zone`); a failed deal gives `voucher_refunded` (409).

    In a batch of verifications (kit.api.group_commit) the deals of all its vouchers' orders are read at once,
    at its first verification: a deal's outcome, once `settled` or `failed`, never changes, and one read as
    pending meanwhile is refused as pending, as it would have been a moment earlier."""
    deal = gathered(session, DEALS, order_id, partial(deals_of_orders, session), keys_from=BATCH_ORDER_IDS)
    if deal is None or deal.outcome == "succeeded":
        return
    details = {"group_buy_id": deal.group_buy_id, "status": deal.status, "ends_at": deal.ends_at.isoformat()}
    if deal.outcome == "failed":
        raise VoucherRefunded("This group-buy deal failed: its vouchers are void and the money goes back.",
                              details=details)
    local = deal.ends_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    details |= {"ends_at_local": local, "timezone": zone}
    if deal.status == GroupBuyStatus.OPEN and deal.ends_at > now:
        message = (f"This group-buy deal is still gathering participants until {local} (store time); "
                   "the voucher works once it succeeds.")
    else:
        message = (f"This group-buy deal closed at {local} (store time) and is being settled; "
                   "the voucher works once it succeeds.")
    raise GroupBuyPending(message, details=details)
