"""Small factory functions that build real rows through the services."""

import itertools

from sqlalchemy.orm import Session

from daodian.accounts import service as accounts
from daodian.accounts.authz import Principal
from daodian.accounts.models import StaffRole, User
from daodian.catalog import service as catalog
from daodian.catalog.schemas import ProductCreate, ServiceItemCreate, SkuCreate
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.merchants.models import Merchant, MerchantStatus, Store
from daodian.merchants.schemas import HoursInterval, Location, MerchantCreate, OpeningHours, StoreCreate

PASSWORD = "correct-horse-9"
_phones = itertools.count(13900000001)

# Hashing is deliberately slow; tests share one hash and one known password.
_SHARED_HASH: str | None = None


def make_user(db: Session, *, name: str = "用户", operator: bool = False, phone: str | None = None) -> User:
    global _SHARED_HASH
    if _SHARED_HASH is None:
        _SHARED_HASH = accounts.hash_password(PASSWORD)
    user = User(phone=phone or str(next(_phones)), display_name=name, password_hash=_SHARED_HASH, is_operator=operator)
    db.add(user)
    db.flush()
    return user


def token_for(db: Session, user: User) -> str:
    token, _ = accounts.open_session(db, user, kind="bearer", days=1)
    return token


def auth(db: Session, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, user)}"}


def make_merchant(db: Session, owner: User, *, name: str = "测试商户", status=MerchantStatus.ACTIVE) -> Merchant:
    merchant = merchants.create_merchant(db, Principal(user_id=owner.id), MerchantCreate(name=name))
    merchant.status = status
    db.flush()
    return merchant


def add_staff(db: Session, merchant: Merchant, user: User, role: StaffRole) -> None:
    accounts.add_staff(db, merchant_id=merchant.id, phone=user.phone, role=role)


WEEKDAYS_9_TO_21 = OpeningHours(intervals=[HoursInterval(weekday=d, opens="09:00", closes="21:00") for d in range(1, 8)])


def make_store(db: Session, merchant: Merchant, *, name: str = "西湖店", lat: float = 30.2590, lng: float = 120.1490,
               datum: str = "gcj02", category: str = "auto_service.oil_change",
               hours: OpeningHours | None = WEEKDAYS_9_TO_21) -> Store:
    data = StoreCreate(name=name, address="杭州市西湖区南山路1号", location=Location(lat=lat, lng=lng, datum=datum),
                       primary_category=category, hours=hours)
    return stores.create_store(db, merchant, data)


def make_item(db: Session, merchant: Merchant, store_ids: list[int], *, price_fen: int = 19900,
              category: str = "auto_service.oil_change"):
    item = catalog.create_item(db, merchant.id, ServiceItemCreate(
        service_category=category, name_zh="小保养", name_en="Basic service", price_fen=price_fen, duration_min=60))
    stores.set_item_stores(db, item, store_ids)
    return item


def make_product(db: Session, merchant: Merchant, *, category: str = "auto.oil", name: str = "全合成机油 5W-30",
                 price_fen: int = 29900):
    return catalog.create_product(db, merchant.id, ProductCreate(
        category=category, name_zh=name, name_en="Synthetic motor oil", skus=[SkuCreate(code="4L", price_fen=price_fen)]))
