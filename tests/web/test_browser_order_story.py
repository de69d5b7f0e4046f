"""In Debian's Chromium, the whole loop, at phone, tablet and desktop sizes (consumer and counter alike): a consumer
buys a service and pays on the sandbox page, the voucher appears with its refund request form; a clerk verifies
the code on the counter screen; the consumer reviews the visit and finds the order under its tab."""

import re
import secrets

import pytest

from daodian.kit.db import unit_of_work
from tests.factories import make_shop, make_user
from tests.support.browser_pages import logged_in_page, shoot
from tests.support.viewports import SIZES
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def story(live_server):
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        shop = make_shop(db, name=f"换油车行{tag}")
        consumer = make_user(db, name=f"小李{tag}")
        return {"store_id": shop.store.id, "item_id": shop.item.id, "merchant_id": shop.merchant.id,
                "clerk": shop.clerk.phone, "consumer": consumer.phone}


@pytest.mark.parametrize("size", SIZES)
def test_buy_pay_verify_review(browser, live_server, story, size):
    consumer, shopper = logged_in_page(browser, live_server.url, story["consumer"], size,
                                       next_path=f"/s/{story['store_id']}")
    clerk = None
    try:
        shopper.get_by_test_id(f"buy-item-{story['item_id']}").click()
        expect(shopper.get_by_test_id("checkout-title")).to_have_text("小保养")
        shopper.get_by_test_id("place-order").click()

        expect(shopper).to_have_url(re.compile(r"/sandbox/pay/\d+\?token="))  # the provider's cashier
        shopper.locator('button[value="pay"]').click()
        expect(shopper.get_by_role("status")).to_be_visible()
        shopper.get_by_test_id("back-to-order").click()
        # The order page refreshes itself (every 2 s) until the sandbox's signed notification has arrived, which
        # comes from a background thread with retries: a few polls' worth on a busy machine, not expect's 5 s.
        expect(shopper.get_by_test_id("order-status")).to_have_attribute("data-status", "voucher_issued",
                                                                          timeout=15_000)
        expect(shopper.get_by_test_id("voucher-qr").locator("svg")).to_be_visible()
        code = shopper.get_by_test_id("voucher-code").get_attribute("data-code")
        assert code and len(code) >= 12
        expect(shopper.get_by_test_id("refund-form")).to_be_visible()  # an unused voucher can be refunded
        order_id = int(re.search(r"/orders/(\d+)", shopper.url).group(1))
        shoot(shopper, f"order-voucher-{size}")

        clerk, counter = logged_in_page(browser, live_server.url, story["clerk"], size, next_path="/merchant")
        counter.get_by_test_id(f"merchant-{story['merchant_id']}").click()
        counter.get_by_test_id(f"verify-store-{story['store_id']}").click()
        field = counter.get_by_test_id("verify-code")
        expect(field).to_be_focused()
        field.fill("0000-0000-0000")
        field.press("Enter")
        expect(counter.get_by_test_id("verify-error")).to_have_attribute("data-code", "voucher_not_found")
        expect(field).to_be_focused()
        field.fill(code.lower())  # typed as the customer reads it out
        field.press("Enter")
        expect(counter.get_by_test_id("verify-ok")).to_contain_text("核销成功")
        field.fill(code)
        counter.get_by_test_id("verify-submit").click()
        expect(counter.get_by_test_id("verify-error")).to_have_attribute("data-code", "voucher_used_up")

        # Visited and not reviewed: the order is under "to review", and leaves it once reviewed.
        shopper.goto(f"{live_server.url}/orders")
        shopper.get_by_test_id("tab-to_review").click()
        expect(shopper.get_by_test_id("tab-to_review")).to_have_attribute("aria-current", "page")
        shopper.get_by_test_id(f"order-{order_id}").click()
        expect(shopper.get_by_test_id("voucher-status")).to_have_text("已使用")
        shopper.locator('[data-testid^="write-review-"]').click()
        shopper.get_by_test_id("rating_experience-5").check()
        shopper.get_by_test_id("rating_service-4").check()
        shopper.get_by_test_id("review-text").fill("师傅很专业，二十分钟就换好了。")
        shopper.get_by_test_id("review-submit").click()
        expect(shopper.get_by_role("heading", name="感谢您的评价")).to_be_visible()
        expect(shopper.get_by_test_id("review-text")).to_have_text("师傅很专业，二十分钟就换好了。")
        shopper.goto(f"{live_server.url}/orders?tab=to_review")
        expect(shopper.get_by_test_id(f"order-{order_id}")).to_have_count(0)
    finally:
        consumer.close()
        if clerk is not None:
            clerk.close()
