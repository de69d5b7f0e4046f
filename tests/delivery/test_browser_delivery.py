"""In Debian's Chromium: a consumer orders for delivery on a phone (the checkout sends the phone's position with
the address) and pays on the sandbox page; a courier working on a phone page takes the order, picks it up and
hands it over with the consumer's code, while the consumer's tracking page shows the courier's marker move
(server-sent events) and then the delivery done. Map tiles are unreachable here: the markers show."""

import re
import secrets

import pytest
from sqlalchemy import select

from daodian.accounts.models import User
from daodian.delivery.models import Delivery
from daodian.kit.db import unit_of_work
from tests.delivery.helpers import make_courier
from tests.factories import make_shop, make_user
from tests.support.browser_pages import logged_in_page, shoot
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

def test_a_courier_carries_an_order_while_the_consumer_watches(browser, live_server):
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        shop = make_shop(db, name=f"外卖小店{tag}")
        consumer = make_user(db, name=f"小王{tag}")
        courier = make_courier(db, name=f"骑手{tag}", online=False, lat=30.2550, lng=120.1450)
        courier_phone = db.get(User, courier.user_id).phone
        consumer_phone, product_id, sku_id = consumer.phone, shop.product.id, shop.sku.id

    door = {"latitude": 30.2700, "longitude": 120.1600}
    watcher_context, watcher = logged_in_page(
        browser, live_server.url, consumer_phone, "phone", next_path=f"/buy/product/{product_id}", timeout_ms=20_000,
        geolocation=door, permissions=["geolocation"])
    watcher.get_by_test_id(f"sku-{sku_id}").check()
    watcher.get_by_test_id("fulfilment-delivery").check()
    watcher.get_by_test_id("delivery-name").fill("王女士")
    watcher.get_by_test_id("delivery-phone").fill("13800000000")
    watcher.get_by_test_id("delivery-address").fill("文三路 1 号")
    expect(watcher.get_by_test_id("delivery-lat")).not_to_have_value("")  # the phone's position, for the courier
    watcher.get_by_test_id("place-order").click()
    expect(watcher).to_have_url(re.compile(r"/sandbox/pay/\d+\?token="))
    watcher.locator('button[value="pay"]').click()
    watcher.get_by_test_id("back-to-order").click()
    watcher.get_by_test_id("track-delivery").click()
    order_id = int(re.search(r"/orders/(\d+)/tracking", watcher.url).group(1))
    with unit_of_work(live_server.session_factory) as db:
        delivery = db.scalars(select(Delivery).where(Delivery.order_id == order_id)).one()
        delivery_id, code = delivery.id, delivery.handover_code
        delivery.ready_at = delivery.placed_at  # the kitchen was quick

    near_store = {"latitude": 30.2590, "longitude": 120.1490}
    rider_context, rider = logged_in_page(
        browser, live_server.url, courier_phone, "phone", next_path="/courier", timeout_ms=20_000,
        geolocation=near_store, permissions=["geolocation"])
    try:
        expect(watcher.get_by_test_id("delivery-status")).to_have_attribute("data-status", "waiting")
        expect(watcher.locator(".leaflet-control-scale")).to_be_visible()  # the map stands without tiles
        expect(watcher.locator('[data-marker="door"]')).to_have_count(1)

        rider.get_by_test_id("go-online").click()
        expect(rider.get_by_test_id("courier-status")).to_have_text("在线")
        rider.get_by_test_id(f"available-{delivery_id}").get_by_test_id("accept").click()
        expect(rider.get_by_test_id(f"route-{delivery_id}")).to_have_attribute("data-status", "assigned")
        expect(watcher.get_by_test_id("delivery-status")).to_have_attribute("data-status", "assigned")
        # The phone page reports its position; the consumer's page places the courier.
        expect(watcher.locator('[data-marker="courier"]')).to_have_count(1)
        first_seen = watcher.get_by_test_id("tracking").get_attribute("data-courier-at")

        rider.get_by_test_id("arrive").click()
        rider.get_by_test_id("pickup").click()
        expect(rider.get_by_test_id(f"route-{delivery_id}")).to_have_attribute("data-status", "picked_up")
        expect(watcher.get_by_test_id("delivery-status")).to_have_attribute("data-status", "picked_up")
        shoot(rider, "courier-phone")

        rider_context.set_geolocation({"latitude": 30.2680, "longitude": 120.1580})  # riding towards the door
        expect(watcher.get_by_test_id("tracking")).not_to_have_attribute("data-courier-at", first_seen or "",
                                                                          timeout=30_000)
        # Over the page's WebSocket (delivery.position_socket), not a post per report.
        expect(rider.get_by_test_id("position-state")).to_have_attribute("data-channel", "socket")
        shoot(watcher, "delivery-tracking")

        rider.get_by_test_id("handover-code").fill(code)
        rider.get_by_test_id("deliver").click()
        expect(rider.get_by_test_id(f"route-{delivery_id}")).to_have_count(0)
        expect(watcher.get_by_test_id("delivery-status")).to_have_attribute("data-status", "delivered")
    finally:
        rider_context.close()
        watcher_context.close()
