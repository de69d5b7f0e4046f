"""In Debian's Chromium: a merchant changes a store's opening hours (on a desktop); a consumer sees them in zh-CN and
English on a phone, a tablet and a desktop."""

import re
import secrets

import pytest

from daodian.kit.db import unit_of_work
from tests.factories import make_merchant, make_store, make_user
from tests.support.browser_pages import log_in, new_page, shoot
from tests.support.viewports import SIZES
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

FRIDAY, MONDAY, WEDNESDAY = 5, 1, 3


@pytest.fixture(scope="module")
def night_store(live_server):
    """An owner with one store open 09:00-21:00 every day; names are unique because the server is shared."""
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        owner = make_user(db, name=f"店主{tag}")
        merchant = make_merchant(db, owner, name=f"夜宵商户{tag}")
        store = make_store(db, merchant, name=f"夜宵店{tag}")
        return {"phone": owner.phone, "merchant_id": merchant.id, "store_id": store.id}


def _merchant_sets_hours(browser, live_server, night_store) -> None:
    context, page = new_page(browser, "desktop", timeout_ms=10_000)
    try:
        log_in(page, live_server.url, night_store["phone"], lands_on="/merchant")
        page.get_by_test_id(f"merchant-{night_store['merchant_id']}").click()
        page.get_by_test_id(f"edit-store-{night_store['store_id']}").click()
        assert page.evaluate("typeof window.htmx") == "object", "htmx not served; run `make assets`"

        friday = page.get_by_test_id(f"hours-row-{FRIDAY}").first
        friday.get_by_test_id("opens").fill("18:00")
        friday.get_by_test_id("closes").fill("02:00")
        friday.get_by_test_id("next-day").check()
        for row in page.get_by_test_id(f"hours-row-{MONDAY}").all():
            row.get_by_test_id("remove").check()
        # A split day: the existing range becomes lunch, htmx adds a row for dinner.
        wednesday = page.get_by_test_id(f"hours-row-{WEDNESDAY}")
        wednesday.first.get_by_test_id("closes").fill("14:00")
        page.get_by_test_id(f"add-range-{WEDNESDAY}").click()
        expect(wednesday).to_have_count(2)
        wednesday.nth(1).get_by_test_id("opens").fill("17:00")
        wednesday.nth(1).get_by_test_id("closes").fill("22:00")

        page.get_by_test_id("save-hours").click()
        expect(page.get_by_test_id("hours-saved")).to_be_visible()
        expect(page.get_by_test_id(f"hours-row-{MONDAY}")).to_have_count(0)
    finally:
        context.close()


@pytest.fixture(scope="module")
def hours_set(browser, live_server, night_store):
    _merchant_sets_hours(browser, live_server, night_store)
    return night_store


@pytest.mark.parametrize("size", SIZES)
def test_merchant_changes_hours_and_a_consumer_sees_them_in_both_languages(browser, live_server, hours_set, size):
    night_store = hours_set
    context, page = new_page(browser, size, timeout_ms=10_000)  # a fresh consumer, not logged in
    try:
        page.goto(f"{live_server.url}/s/{night_store['store_id']}")
        expect(page.get_by_test_id("login-link")).to_be_visible()
        hours = page.get_by_test_id("store-hours")
        expect(hours.get_by_test_id(f"hours-day-{FRIDAY}")).to_contain_text("周五")
        expect(hours.get_by_test_id(f"hours-day-{FRIDAY}")).to_contain_text("18:00–次日 02:00")
        expect(hours.get_by_test_id(f"hours-day-{MONDAY}")).to_contain_text("周一")
        expect(hours.get_by_test_id(f"hours-day-{MONDAY}")).to_contain_text("休息")
        expect(hours.get_by_test_id(f"hours-day-{WEDNESDAY}")).to_contain_text("09:00–14:00")
        expect(hours.get_by_test_id(f"hours-day-{WEDNESDAY}")).to_contain_text("17:00–22:00")
        expect(page.get_by_role("heading", name="营业时间")).to_be_visible()
        shoot(page, f"store-hours-{size}")

        page.get_by_test_id("lang-en").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        hours = page.get_by_test_id("store-hours")
        expect(hours.get_by_test_id(f"hours-day-{FRIDAY}")).to_contain_text("Friday")
        expect(hours.get_by_test_id(f"hours-day-{FRIDAY}")).to_contain_text("18:00–02:00 (next day)")
        expect(hours.get_by_test_id(f"hours-day-{MONDAY}")).to_contain_text("Monday")
        expect(hours.get_by_test_id(f"hours-day-{MONDAY}")).to_contain_text("Closed")
        expect(page.get_by_role("heading", name="Opening hours")).to_be_visible()
        nav = page.get_by_test_id("nav-link")
        expect(nav).to_have_attribute("href", re.compile(r"^https://uri\.amap\.com/marker\?position=[\d.]+,[\d.]+&name="))
    finally:
        context.close()
