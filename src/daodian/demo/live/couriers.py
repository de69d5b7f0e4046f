"""The demo city's people on the road, so that `make run` shows dispatch at work: a few couriers of the platform's
fleet and one service provider (上门服务), online near the demo chain's stores, and one at-home service item of
the chain that sends the provider to the buyer's address (daodian.delivery).

Their logins share the demo password; they are on duty with no end of shift, at a position a few hundred metres
from a store, until they go offline on the courier page (/courier), whose browser then reports where they are.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts.models import User
from daodian.accounts.passwords import hash_password
from daodian.delivery.models import Courier
from daodian.demo.people import DEMO_PASSWORD, DemoLogin
from daodian.kit.clock import utcnow
from daodian.merchants import service_items, stores
from daodian.merchants.item_schemas import ServiceItemCreate
from daodian.merchants.models import ServiceItem, Store, StoreStatus
from daodian.taxonomy.models import ServiceCategory

COURIERS = (
    DemoLogin("courier", "13800000011", "骑手 赵磊"),
    DemoLogin("courier", "13800000012", "骑手 孙浩"),
    DemoLogin("courier", "13800000013", "骑手 吴婷"),
)
PROVIDER = DemoLogin("provider", "13800000014", "上门师傅 郑刚")
OFFSETS = ((0.002, 0.001), (-0.0015, 0.002), (0.001, -0.002), (-0.001, -0.001))  # ~100-250 m from a store


@dataclass(frozen=True)
class Fleet:
    logins: tuple[DemoLogin, ...]
    at_home_item_id: int | None


def seed(session: Session, chain_merchant_id: int) -> Fleet:
    """Couriers and a provider near the chain's open stores, and the chain's at-home item; nothing without stores
    (a city too small) or when they exist already."""
    near = list(session.scalars(select(Store).where(Store.merchant_id == chain_merchant_id,
                                                    Store.status == StoreStatus.OPEN.value)
                                .order_by(Store.id).limit(len(OFFSETS))))
    taken = set(session.scalars(select(User.phone).where(User.phone.in_(
        [x.phone for x in (*COURIERS, PROVIDER)]))))
    if not near or taken:
        return Fleet(logins=(), at_home_item_id=None)
    password_hash, now = hash_password(DEMO_PASSWORD), utcnow()
    for i, login in enumerate((*COURIERS, PROVIDER)):
        user = User(phone=login.phone, display_name=login.name, password_hash=password_hash, is_operator=False,
                    is_active=True, failed_logins=0)
        session.add(user)
        session.flush()
        store, (dlat, dlng) = near[i % len(near)], OFFSETS[i % len(OFFSETS)]
        session.add(Courier(user_id=user.id, merchant_id=None, is_provider=login is PROVIDER, online=True,
                            shift_ends_at=None, lat=store.lat + dlat, lng=store.lng + dlng, position_at=now,
                            speed_m_per_min=250, capacity=4))
    session.flush()
    return Fleet(logins=(*COURIERS, PROVIDER), at_home_item_id=_at_home_item(session, chain_merchant_id, near))


def _at_home_item(session: Session, merchant_id: int, near: list[Store]) -> int | None:
    """A copy of the chain's first service as an at-home one, offered at its stores near the fleet."""
    model = session.scalar(select(ServiceItem).where(ServiceItem.merchant_id == merchant_id)
                           .order_by(ServiceItem.id).limit(1))
    if model is None:
        return None
    category = session.get(ServiceCategory, model.category_id)
    item = service_items.create_item(session, merchant_id, ServiceItemCreate(
        service_category=category.code, name_zh=f"上门{model.name_zh}"[:120],
        name_en=f"{model.name_en} at home"[:120] if model.name_en else None,
        description="师傅从最近的门店出发，上门服务；完成后出示券码核销。", price_fen=max(model.price_fen, 100) + 5000,
        duration_min=model.duration_min, at_home=True))
    stores.set_item_stores(session, item, [s.id for s in near])
    return item.id
