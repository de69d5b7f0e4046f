"""The at-home pages without a browser: the console's at-home box, the checkout asking the service address, the
provider's page completing a visit with the voucher code, and wrong handover codes counted from the courier page."""

from datetime import timedelta

from sqlalchemy import select

from daodian.accounts.models import User
from daodian.delivery.models import Delivery
from daodian.kit.clock import utcnow
from daodian.merchants.models import ServiceItem
from daodian.orders.models import Order
from daodian.vouchers.models import Voucher
from tests.delivery.helpers import at_home_shop, delivery_order, make_courier, make_provider, visit_order
from tests.delivery.test_delivery_pages import login_client


def _delivery(db, order) -> Delivery:
    return db.scalars(select(Delivery).where(Delivery.order_id == order.id)).one()


def test_the_console_form_marks_an_item_at_home(db, app, shop):
    with login_client(app, db, shop.owner) as client:
        form = client.get(f"/merchant/items/{shop.item.id}")
        assert form.status_code == 200 and 'data-testid="item-at-home"' in form.text
        saved = client.post(f"/merchant/items/{shop.item.id}", data={
            "csrf_token": client.csrf, "name_zh": "上门小保养", "service_category": "auto_service.oil_change",
            "price": "199.00", "duration_min": "60", "status": "active", "store_ids": str(shop.store.id),
            "at_home": "1"})
        assert saved.status_code == 303
        db.expire_all()
        assert db.get(ServiceItem, shop.item.id).at_home is True
        assert 'name="at_home" value="1" checked' in client.get(f"/merchant/items/{shop.item.id}").text


def test_the_checkout_asks_an_at_home_items_address_and_refuses_it_unlocated(db, app, consumer):
    shop = at_home_shop(db)
    with login_client(app, db, consumer) as client:
        page = client.get(f"/buy/item/{shop.item.id}")
        assert 'data-testid="visit-fields"' in page.text and "/static/door.js" in page.text
        form = {"csrf_token": client.csrf, "form_key": "k-visit-1", "quantity": "1", "at_home": "1",
                "name": "王女士", "phone": "13800000000", "address": "文三路 1 号"}
        unlocated = client.post(f"/buy/item/{shop.item.id}", data=form)
        assert unlocated.status_code == 422 and 'data-testid="checkout-error"' in unlocated.text
        placed = client.post(f"/buy/item/{shop.item.id}", data={**form, "form_key": "k-visit-2", "lat": "30.27",
                                                                  "lng": "120.16"})
        assert placed.status_code == 303
    order = db.scalars(select(Order).where(Order.consumer_id == consumer.id)).one()
    assert order.fulfilment == "at_home" and order.delivery_address["location"]["datum"] == "wgs84"


def test_the_provider_page_completes_a_visit_with_the_voucher_code(db, app, consumer):
    shop = at_home_shop(db)
    provider = make_provider(db)
    order = visit_order(db, consumer, shop)
    visit = _delivery(db, order)
    code = db.scalars(select(Voucher.code).where(Voucher.order_id == order.id)).one()
    with login_client(app, db, db.get(User, provider.user_id)) as client:
        assert f'data-testid="available-{visit.id}" data-kind="visit"' in client.get("/courier").text
        for step in ("accept", "pickup"):
            assert client.post(f"/courier/deliveries/{visit.id}/{step}",
                               data={"csrf_token": client.csrf}).status_code == 303
        assert 'data-testid="complete-visit"' in client.get("/courier").text
        wrong = client.post(f"/courier/deliveries/{visit.id}/complete", data={"csrf_token": client.csrf,
                                                                            "code": "WRONG1"})
        assert wrong.status_code == 404 and 'data-code="voucher_not_found"' in wrong.text
        done = client.post(f"/courier/deliveries/{visit.id}/complete", data={"csrf_token": client.csrf, "code": code})
        assert done.status_code == 303
    db.expire_all()
    assert db.get(Delivery, visit.id).status == "delivered" and db.get(Order, order.id).status == "completed"


def test_the_courier_page_counts_wrong_handover_codes(db, app, shop, consumer):
    courier = make_courier(db)
    delivery = _delivery(db, delivery_order(db, consumer, shop))
    delivery.ready_at = utcnow() - timedelta(seconds=1)
    db.flush()
    wrong = "000000" if delivery.handover_code != "000000" else "111111"
    with login_client(app, db, db.get(User, courier.user_id)) as client:
        for step in ("accept", "pickup"):
            client.post(f"/courier/deliveries/{delivery.id}/{step}", data={"csrf_token": client.csrf})
        for _ in range(5):
            page = client.post(f"/courier/deliveries/{delivery.id}/deliver",
                               data={"csrf_token": client.csrf, "code": wrong})
            assert 'data-code="wrong_handover_code"' in page.text
        locked = client.post(f"/courier/deliveries/{delivery.id}/deliver",
                             data={"csrf_token": client.csrf, "code": delivery.handover_code})
        assert locked.status_code == 429 and 'data-code="handover_locked"' in locked.text
