"""In Debian's Chromium, phone size: a consumer buys an at-home service (上门服务) on a phone, the checkout sending
the phone's position with the service address, and pays on the sandbox page; a provider on the courier page takes
the visit, sets off, and at the door types the voucher code the consumer's order page shows; the visit is done on
the consumer's tracking page and the service order is completed."""

import re
import secrets

import pytest
from sqlalchemy import select

from daodian.accounts.models import User
from daodian.delivery.models import Delivery
from daodian.kit.db import unit_of_work
from daodian.orders.models import Order
from tests.delivery.helpers import at_home_shop, make_provider
from tests.factories import make_user
from tests.support.browser_pages import logged_in_page, shoot
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def test_a_provider_completes_a_visit_with_the_consumers_voucher_code(browser, live_server):
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        shop = at_home_shop(db, name=f"上门保洁{tag}")
        consumer = make_user(db, name=f"小李{tag}")
        provider = make_provider(db, name=f"师傅{tag}", online=False, lat=30.2560, lng=120.1460)
        provider_phone = db.get(User, provider.user_id).phone
        consumer_phone, item_id = consumer.phone, shop.item.id

    home = {"latitude": 30.2700, "longitude": 120.1600}
    buyer_context, buyer = logged_in_page(
        browser, live_server.url, consumer_phone, "phone", next_path=f"/buy/item/{item_id}", timeout_ms=20_000,
        geolocation=home, permissions=["geolocation"])
    provider_context = None
    try:
        buyer.get_by_test_id("visit-name").fill("李先生")
        buyer.get_by_test_id("visit-phone").fill("13900000000")
        buyer.get_by_test_id("visit-address").fill("文三路 8 号 3 单元")
        expect(buyer.get_by_test_id("visit-lat")).not_to_have_value("")  # the phone's position: where to go
        buyer.get_by_test_id("place-order").click()
        expect(buyer).to_have_url(re.compile(r"/sandbox/pay/\d+\?token="))
        buyer.locator('button[value="pay"]').click()
        buyer.get_by_test_id("back-to-order").click()
        order_id = int(re.search(r"/orders/(\d+)", buyer.url).group(1))
        code = buyer.get_by_test_id("voucher-code").first.inner_text()  # what the consumer shows at the door
        buyer.get_by_test_id("track-delivery").click()
        expect(buyer.get_by_test_id("visit-note")).to_be_visible()
        expect(buyer.get_by_test_id("delivery-status")).to_have_attribute("data-status", "waiting")
        with unit_of_work(live_server.session_factory) as db:
            visit_id = db.scalars(select(Delivery.id).where(Delivery.order_id == order_id)).one()

        provider_context, provider_page = logged_in_page(
            browser, live_server.url, provider_phone, "phone", next_path="/courier", timeout_ms=20_000,
            geolocation={"latitude": 30.2590, "longitude": 120.1490}, permissions=["geolocation"])
        provider_page.get_by_test_id("go-online").click()
        provider_page.get_by_test_id(f"available-{visit_id}").get_by_test_id("accept").click()
        route = provider_page.get_by_test_id(f"route-{visit_id}")
        expect(route).to_have_attribute("data-kind", "visit")
        expect(buyer.get_by_test_id("delivery-status")).to_have_attribute("data-status", "assigned")
        expect(buyer.locator('[data-marker="courier"]')).to_have_count(1)  # the provider on the map (SSE)
        provider_page.get_by_test_id("pickup").click()  # sets off from the store
        expect(route).to_have_attribute("data-status", "picked_up")
        provider_page.get_by_test_id("visit-code").fill("WRONG-CODE")
        provider_page.get_by_test_id("complete-visit").click()
        expect(provider_page.get_by_test_id("courier-error")).to_have_attribute("data-code", "voucher_not_found")
        provider_page.get_by_test_id("visit-code").fill(code)
        provider_page.get_by_test_id("complete-visit").click()
        expect(provider_page.get_by_test_id(f"route-{visit_id}")).to_have_count(0)
        shoot(provider_page, "provider-phone")
        expect(buyer.get_by_test_id("delivery-status")).to_have_attribute("data-status", "delivered")
        shoot(buyer, "visit-tracking")
        with unit_of_work(live_server.session_factory, read_only=True) as db:
            assert db.get(Order, order_id).status == "completed"
    finally:
        if provider_context is not None:
            provider_context.close()
        buyer_context.close()
