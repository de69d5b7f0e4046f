"""In Debian's Chromium, the whole loop: a consumer buys a service on a phone and pays on the sandbox page, the
voucher appears; a clerk verifies the code on the counter tablet; the consumer reviews the visit."""

import re
import secrets

import pytest

from daodian.kit.db import unit_of_work
from tests.factories import PASSWORD, make_shop, make_user
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def story(live_server):
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        shop = make_shop(db, name=f"换油车行{tag}")
        consumer = make_user(db, name=f"小李{tag}")
        return {"store_id": shop.store.id, "item_id": shop.item.id, "merchant_id": shop.merchant.id,
                "clerk": shop.clerk.phone, "consumer": consumer.phone}


def _logged_in(browser, live_server, phone: str, viewport: dict, next_path: str):
    context = browser.new_context(locale="zh-CN", viewport=viewport, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login?next={next_path}")
    page.get_by_test_id("login-phone").fill(phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{live_server.url}{next_path}")
    return context, page


def test_buy_pay_verify_review(browser, live_server, story):
    consumer, phone = _logged_in(browser, live_server, story["consumer"], PHONE, f"/s/{story['store_id']}")
    clerk = None
    try:
        phone.get_by_test_id(f"buy-item-{story['item_id']}").click()
        expect(phone.get_by_test_id("checkout-title")).to_have_text("小保养")
        phone.get_by_test_id("place-order").click()

        expect(phone).to_have_url(re.compile(r"/sandbox/pay/\d+\?token="))  # the provider's cashier
        phone.locator('button[value="pay"]').click()
        expect(phone.get_by_role("status")).to_be_visible()
        phone.get_by_test_id("back-to-order").click()
        # The order page refreshes itself until the sandbox's signed notification has arrived.
        expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "voucher_issued")
        expect(phone.get_by_test_id("voucher-qr").locator("svg")).to_be_visible()
        code = phone.get_by_test_id("voucher-code").get_attribute("data-code")
        assert code and len(code) >= 12

        clerk, tablet = _logged_in(browser, live_server, story["clerk"], TABLET, "/merchant")
        tablet.get_by_test_id(f"merchant-{story['merchant_id']}").click()
        tablet.get_by_test_id(f"verify-store-{story['store_id']}").click()
        field = tablet.get_by_test_id("verify-code")
        expect(field).to_be_focused()
        field.fill("0000-0000-0000")
        field.press("Enter")
        expect(tablet.get_by_test_id("verify-error")).to_have_attribute("data-code", "voucher_not_found")
        expect(field).to_be_focused()
        field.fill(code.lower())  # typed as the customer reads it out
        field.press("Enter")
        expect(tablet.get_by_test_id("verify-ok")).to_contain_text("核销成功")
        field.fill(code)
        tablet.get_by_test_id("verify-submit").click()
        expect(tablet.get_by_test_id("verify-error")).to_have_attribute("data-code", "voucher_used_up")

        phone.reload()
        expect(phone.get_by_test_id("voucher-status")).to_have_text("已使用")
        phone.locator('[data-testid^="write-review-"]').click()
        phone.get_by_test_id("rating_experience-5").check()
        phone.get_by_test_id("rating_service-4").check()
        phone.get_by_test_id("review-text").fill("师傅很专业，二十分钟就换好了。")
        phone.get_by_test_id("review-submit").click()
        expect(phone.get_by_role("heading", name="感谢您的评价")).to_be_visible()
        expect(phone.get_by_test_id("review-text")).to_have_text("师傅很专业，二十分钟就换好了。")
    finally:
        consumer.close()
        if clerk is not None:
            clerk.close()
