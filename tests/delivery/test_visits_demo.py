"""The demo city's fleet (demo.live.couriers): couriers and a provider on duty near the chain's stores and an
at-home item, so that a paid order of it is dispatched to the provider at once; seeding twice adds nothing."""

from sqlalchemy import func, select

from daodian.delivery import couriers, dispatching
from daodian.delivery.models import Courier, Delivery
from daodian.demo.live import couriers as demo_couriers
from daodian.kit.clock import utcnow
from daodian.merchants.models import ServiceItem
from tests.delivery.helpers import visit_order
from tests.factories import make_shop


def test_the_demo_fleet_is_on_duty_and_its_provider_gets_the_at_home_order(db, consumer):
    shop = make_shop(db, name="驰安养车")
    fleet = demo_couriers.seed(db, shop.merchant.id)
    on_road = db.scalars(select(Courier)).all()
    assert len(fleet.logins) == 4 and sum(c.is_provider for c in on_road) == 1
    assert all(couriers.on_duty(c, utcnow()) and c.lat is not None for c in on_road)
    item = db.get(ServiceItem, fleet.at_home_item_id)
    assert item.at_home and item.merchant_id == shop.merchant.id
    shop.item = item
    order = visit_order(db, consumer, shop)
    assert dispatching.run_cycle(db, utcnow()).assigned == 1
    visit = db.scalars(select(Delivery).where(Delivery.order_id == order.id)).one()
    assert db.get(Courier, visit.courier_id).is_provider
    again = demo_couriers.seed(db, shop.merchant.id)
    assert again.logins == () and db.scalar(select(func.count()).select_from(Courier)) == 4
