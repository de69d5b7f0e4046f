"""Delivery orders, couriers and their positions for the delivery tests."""

from datetime import timedelta

from sqlalchemy.orm import Session

from daodian.delivery.models import Courier
from daodian.kit.clock import utcnow
from daodian.kit.settings import get_settings
from daodian.orders import service as order_service
from daodian.orders.schemas import OrderCreate, OrderLineIn
from tests.factories import make_shop, make_user, pay_order, principal_of

DOOR = {"lat": 30.2700, "lng": 120.1600, "datum": "wgs84"}  # ~1.5 km from the factories' store


def delivery_order(db: Session, consumer, shop, *, location: dict | None = DOOR, paid: bool = True):
    address = {"name": "王女士", "phone": "13800000000", "address": "文三路 1 号"}
    if location is not None:
        address["location"] = location
    order = order_service.create_order(db, principal_of(db, consumer), OrderCreate(
        lines=[OrderLineIn(sku_id=shop.sku.id, quantity=1)], fulfilment="delivery", delivery_address=address),
        get_settings())
    if paid:
        pay_order(db, order)
    return order


def make_courier(db: Session, *, name: str = "骑手", merchant=None, lat: float = 30.2600, lng: float = 120.1500,
                 online: bool = True, capacity: int = 4) -> Courier:
    user = make_user(db, name=name)
    courier = Courier(user_id=user.id, merchant_id=merchant.id if merchant else None, online=online,
                      capacity=capacity, speed_m_per_min=250, lat=lat, lng=lng,
                      position_at=utcnow() - timedelta(minutes=1))
    db.add(courier)
    db.flush()
    return courier


def at_home_shop(db: Session, **options):
    """A shop whose service item is done at the consumer's address (上门服务)."""
    shop = make_shop(db, **options)
    shop.item.at_home = True
    db.flush()
    return shop


def visit_order(db: Session, consumer, shop, *, location: dict | None = DOOR, paid: bool = True, quantity: int = 1):
    """An order of the shop's at-home item, to be done at `location` (the consumer's address)."""
    address = {"name": "王女士", "phone": "13800000000", "address": "文三路 1 号"}
    if location is not None:
        address["location"] = location
    order = order_service.create_order(db, principal_of(db, consumer), OrderCreate(
        lines=[OrderLineIn(service_item_id=shop.item.id, quantity=quantity)], delivery_address=address),
        get_settings())
    if paid:
        pay_order(db, order)
    return order


def make_provider(db: Session, **options) -> Courier:
    courier = make_courier(db, **{"name": "师傅", **options})
    courier.is_provider = True
    db.flush()
    return courier
