"""In Debian's Chromium, at phone, tablet and desktop sizes: the operator adds a service category, suspends a merchant
and creates a promotion for a store from the console, and axe-core finds no serious or critical violation on
those pages (with a form's messages showing, too)."""

import re
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from tests.factories import make_merchant, make_store, make_user
from tests.support.axe import serious_violations as _axe
from tests.support.browser_pages import log_in, new_page, shoot
from tests.support.viewports import SIZES
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect



@pytest.fixture
def world(live_server):
    """An operator, and a merchant with a store; names and codes unique because the server is shared."""
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        operator = make_user(db, name=f"运营{tag}", operator=True)
        merchant = make_merchant(db, make_user(db, name=f"店主{tag}"), name=f"被暂停商户{tag}")
        for n in range(PAGE):  # after it, a page's worth more: the operator pages to it as among many merchants
            make_merchant(db, make_user(db, name=f"店主{tag}{n}"), name=f"商户{tag}{n}")
        other = make_merchant(db, make_user(db, name=f"推广店主{tag}"), name=f"推广商户{tag}")
        store = make_store(db, other, name=f"推广店{tag}")
        return {"tag": tag, "phone": operator.phone, "merchant": merchant.id, "store": store.id}


PAGE = 20  # the merchants list's page (kit.api.pagination's default limit)


def _page_to(page, test_id: str):
    """The element, following the list's "More" link until a page shows it (the merchants list is paged, and the
    whole suite's merchants share this database)."""
    for _ in range(50):
        found = page.get_by_test_id(test_id)
        if found.count():
            return found
        page.get_by_test_id("more").click()
        page.wait_for_load_state()
    raise AssertionError(f"{test_id} is on none of 50 pages")


@pytest.mark.parametrize("size", SIZES)
def test_the_operator_adds_a_category_suspends_a_merchant_and_creates_a_promotion(browser, live_server, world, size):
    # bypass_csp: the test injects axe-core itself; the pages' own scripts run under their policy as always.
    context, page = new_page(browser, size, bypass_csp=True)
    problems = {}
    code = f"fitness.t{world['tag']}{size[0]}"
    try:
        log_in(page, live_server.url, world["phone"], lands_on="/admin")

        page.get_by_test_id("nav-categories").click()
        adding = page.get_by_test_id("add-service-category")
        adding.locator("summary").click()
        adding.get_by_test_id("new-service-parent").select_option("fitness")
        adding.get_by_test_id("new-service-code").fill("Fitness Climbing")  # not a code: the page says why
        adding.get_by_test_id("new-service-name-zh").fill(f"攀岩馆{world['tag']}")
        adding.get_by_test_id("new-service-name-en").fill("Climbing gym")
        adding.get_by_test_id("add-service-submit").click()
        expect(page.get_by_test_id("add-service-category").get_by_test_id("error-code")).to_contain_text("小写字母")
        problems["categories with an error"] = _axe(page)
        page.get_by_test_id("new-service-code").fill(code)
        page.get_by_test_id("add-service-submit").click()
        expect(page.get_by_test_id("saved-notice")).to_be_visible()
        expect(page.get_by_test_id(f"category-{code}")).to_contain_text(f"攀岩馆{world['tag']}")
        problems["categories"] = _axe(page)
        # The page fits the screen: a wide table scrolls in its own box, the page does not scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "wider than the screen"
        page.get_by_test_id(f"rename-{code}").click()
        expect(page.get_by_test_id("category-code")).to_have_text(code)
        problems["rename"] = _axe(page)

        page.get_by_test_id("nav-all-merchants").click()
        _page_to(page, f"suspend-{world['merchant']}").click()
        expect(page.get_by_test_id("done-notice")).to_be_visible()
        expect(page.get_by_test_id(f"merchant-row-{world['merchant']}")).to_have_count(0)
        page.get_by_test_id("status-suspended").click()
        expect(_page_to(page, f"reinstate-{world['merchant']}")).to_be_visible()
        problems["merchants"] = _axe(page)

        page.get_by_test_id("nav-promotions").click()
        page.get_by_test_id("new-promotion").locator("summary").click()
        ends = (utcnow() + timedelta(days=5)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
        page.get_by_test_id("promotion-store").fill(str(world["store"]))
        page.get_by_test_id("promotion-ends").fill(ends)
        page.get_by_test_id("promotion-note").fill(f"浏览器测试{world['tag']}")
        page.get_by_test_id("create-promotion").click()
        expect(page.get_by_test_id("created-notice")).to_be_visible()
        row = page.locator("[data-testid^='promotion-']", has_text=f"浏览器测试{world['tag']}")
        expect(row).to_have_attribute("data-status", re.compile("running|scheduled"))
        problems["promotions"] = _axe(page)
        shoot(page, f"operator-promotions-created-{size}")
    finally:
        context.close()
    problems = {name: found for name, found in problems.items() if found}
    assert not problems, problems
