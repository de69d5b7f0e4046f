"""Small factory functions that build real rows through the services."""

import itertools
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts import service as accounts
from daodian.accounts.authz import Principal
from daodian.accounts.models import StaffRole, User
from daodian.bookings.models import BookingSlot
from daodian.catalog import service as catalog
from daodian.catalog.models import Sku
from daodian.catalog.schemas import ProductCreate, SkuCreate
from daodian.kit.clock import utcnow
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.merchants.item_schemas import ServiceItemCreate
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreItem
from daodian.merchants.schemas import HoursInterval, Location, MerchantCreate, OpeningHours, StoreCreate
from daodian.orders import service as order_service
from daodian.orders.schemas import OrderCreate, OrderLineIn
from daodian.records import service as records
from daodian.records.models import ConsumptionRecord, RecordSource
from daodian.records.schemas import ConsumptionLineIn, ConsumptionRecordCreate, MemberIn
from daodian.vouchers import counter
from daodian.vouchers.models import Voucher

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
    item = service_items.create_item(db, merchant.id, ServiceItemCreate(
        service_category=category, name_zh="小保养", name_en="Basic service", price_fen=price_fen, duration_min=60))
    stores.set_item_stores(db, item, store_ids)
    return item


def make_product(db: Session, merchant: Merchant, *, category: str = "auto.oil", name: str = "全合成机油 5W-30",
                 price_fen: int = 29900):
    return catalog.create_product(db, merchant.id, ProductCreate(
        category=category, name_zh=name, name_en="Synthetic motor oil", skus=[SkuCreate(code="4L", price_fen=price_fen)]))


# --- consumption records, reviews, bookings ---------------------------------------------------

_receipts = itertools.count(1)


def principal_of(db: Session, user: User) -> Principal:
    return accounts.principal_for(db, user)


def sku_of(db: Session, product) -> Sku:
    return db.scalars(select(Sku).where(Sku.product_id == product.id).order_by(Sku.id)).first()


def make_record(db: Session, store: Store, clerk: User, *, consumer: User | None = None,
                lines: list[ConsumptionLineIn] | None = None, receipt_id: str | None = None,
                occurred_at: datetime | None = None) -> ConsumptionRecord:
    """A sale recorded by `clerk` (staff with the counter right), identified to `consumer` with consent."""
    if lines is None:
        item_id = db.scalar(select(StoreItem.item_id).where(StoreItem.store_id == store.id))
        lines = [ConsumptionLineIn(service_item_id=item_id, quantity=1, amount_fen=19900)]
    data = ConsumptionRecordCreate(
        receipt_id=receipt_id or f"R-{next(_receipts)}", occurred_at=occurred_at or utcnow() - timedelta(minutes=5),
        lines=lines, member=MemberIn(phone=consumer.phone) if consumer else None, member_consented=consumer is not None)
    record, _ = records.record_consumption(db, principal_of(db, clerk), store.id, data, source=RecordSource.POS)
    return record


def make_slot(db: Session, store: Store, item, *, starts_at: datetime | None = None, minutes: int = 60,
              capacity: int = 5) -> BookingSlot:
    """A slot written directly, so tests may also place one in the past (publishing refuses that)."""
    starts_at = starts_at or utcnow() + timedelta(days=2)
    slot = BookingSlot(merchant_id=store.merchant_id, store_id=store.id, service_item_id=item.id, starts_at=starts_at,
                       ends_at=starts_at + timedelta(minutes=minutes), capacity=capacity, booked=0)
    db.add(slot)
    db.flush()
    return slot


# --- orders, vouchers, payments ---------------------------------------------------------------


class Shop:
    """A trading merchant with one store that offers one service item, a product with one SKU, and staff."""

    def __init__(self, **parts):
        self.__dict__.update(parts)


def make_shop(db: Session, *, item_price_fen: int = 19900, sku_price_fen: int = 29900, sessions: int = 1,
              stock: int | None = None, name: str = "测试车行") -> Shop:
    owner, manager, clerk = make_user(db, name="老板"), make_user(db, name="店长"), make_user(db, name="店员")
    merchant = make_merchant(db, owner, name=name)
    add_staff(db, merchant, manager, StaffRole.MANAGER)
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    store = make_store(db, merchant)
    item = make_item(db, merchant, [store.id], price_fen=item_price_fen)
    item.sessions = sessions
    product = make_product(db, merchant, price_fen=sku_price_fen)
    sku = sku_of(db, product)
    sku.stock = stock
    db.flush()
    return Shop(owner=owner, manager=manager, clerk=clerk, merchant=merchant, store=store, item=item,
                product=product, sku=sku)


# --- vouchers for bookings and reviews (through the orders services) ---------------------------


def make_voucher(db: Session, settings, consumer: User, item, store: Store):
    """A paid, issued voucher of `consumer` for one `item`, meant for `store`."""
    order = order_service.create_order(db, principal_of(db, consumer), OrderCreate(
        lines=[OrderLineIn(service_item_id=item.id, quantity=1)], store_id=store.id), settings)
    order_service.mark_paid(db, order, amount_fen=order.total_fen, payment_id=0, provider="test", settings=settings)
    return db.scalars(select(Voucher).where(Voucher.order_id == order.id)).one()


def verify_voucher(db: Session, settings, voucher, store: Store, clerk: User):
    """The counter verifies (核销) the voucher at `store`; returns the verification."""
    return counter.verify(db, principal_of(db, clerk), raw_code=voucher.code, store_id=store.id, terminal_id=None,
                          settings=settings)


# Imported here, next to the factories that use them (this section is appended by the orders work).
from daodian.kit.settings import get_settings  # noqa: E402
from daodian.merchants import service_items  # noqa: E402
from daodian.orders.models import Order  # noqa: E402
from daodian.payments import service as payments_service  # noqa: E402
from daodian.payments.models import Payment, PaymentStatus  # noqa: E402
from daodian.payments.references import new_reference  # noqa: E402


def make_order(db: Session, consumer: User, *, shop: Shop | None = None, product: bool = False,
               quantity: int = 1, paid: bool = False) -> Order:
    """An order of `consumer` at `shop` (a new shop of its own by default): one service item, or one SKU for
    pickup. `paid=True` also pays it (a sandbox payment whose notification arrived), issuing vouchers."""
    shop = shop or make_shop(db)
    if product:
        data = OrderCreate(lines=[OrderLineIn(sku_id=shop.sku.id, quantity=quantity)], fulfilment="pickup",
                           store_id=shop.store.id)
    else:
        data = OrderCreate(lines=[OrderLineIn(service_item_id=shop.item.id, quantity=quantity)])
    order = order_service.create_order(db, principal_of(db, consumer), data, get_settings())
    if paid:
        pay_order(db, order)
    return order


def pay_order(db: Session, order: Order) -> Payment:
    """Pay `order` as if the sandbox's notification had arrived."""
    payment = Payment(order_id=order.id, provider="sandbox", status=PaymentStatus.PENDING, amount_fen=order.total_fen,
                      refunded_fen=0, out_trade_no=new_reference("P"), late=False, details={},
                      created_by=order.consumer_id)
    db.add(payment)
    db.flush()
    payments_service.apply_success(db, payment, amount_fen=payment.amount_fen, provider_reference="SBXTEST",
                                   settings=get_settings())
    return payment
