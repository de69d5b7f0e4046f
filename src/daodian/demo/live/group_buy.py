"""Demo: one running tiered group buy of a merchant's service item, with a few paid participants.

Everything goes through c2b.group_buy.service (the deal and the joins) and the payments service (a sandbox
payment whose notification arrived), so the demo deal settles like any other.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts import service as accounts
from daodian.accounts.models import StaffMembership, StaffRole, User
from daodian.c2b.group_buy import service as group_buy
from daodian.c2b.group_buy.models import GroupBuy
from daodian.c2b.group_buy.schemas import GroupBuyCreate, Tier
from daodian.demo.live import shoppers as live_shoppers
from daodian.kit.settings import get_settings
from daodian.merchants.models import ServiceItem
from daodian.orders.models import Order
from daodian.taxonomy.models import CatalogStatus

PAID_PARTICIPANTS = 7  # the first tier (1-9) is reached; three more unlock the second


def seed(session: Session, merchant_id: int, now: datetime) -> GroupBuy | None:
    """The group buy, or None if the merchant has no owner or no active service item."""
    owner = session.scalar(select(User).join(StaffMembership, StaffMembership.user_id == User.id).where(
        StaffMembership.merchant_id == merchant_id, StaffMembership.role == StaffRole.OWNER))
    item = session.scalar(select(ServiceItem).where(ServiceItem.merchant_id == merchant_id,
                                                    ServiceItem.status == CatalogStatus.ACTIVE).order_by(ServiceItem.id))
    if owner is None or item is None:
        return None
    top = max(item.price_fen, 300)
    tiers = [Tier(min_participants=1, price_fen=top), Tier(min_participants=10, price_fen=top * 8 // 10),
             Tier(min_participants=50, price_fen=top * 6 // 10)]
    deal = group_buy.create(session, accounts.principal_for(session, owner), merchant_id, GroupBuyCreate(
        service_item_id=item.id, title=f"{item.name_zh} 阶梯团购"[:64], tiers=tiers, starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=3)))
    settings = get_settings()
    for n in range(PAID_PARTICIPANTS):
        user = live_shoppers.consumer(session, f"+86166{merchant_id % 1000:03d}{n:05d}", f"团购顾客{n + 1}")
        joined = group_buy.new_join(session, settings, accounts.principal_for(session, user), deal.id)
        live_shoppers.pay_in_sandbox(session, session.get(Order, joined.order_id))
    return deal

