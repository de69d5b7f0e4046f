"""In Debian's Chromium, at phone, tablet and desktop sizes: a merchant logs in, opens the analytics dashboard and
sees the coupon funnel chart, drawn by ECharts from the protected figures; its CSV export downloads the same
figures."""

import csv
import io
from pathlib import Path

import pytest

from daodian.accounts.models import User
from daodian.analytics.export import export_facts
from daodian.kit.db import unit_of_work
from tests.analytics import generate
from tests.support.browser_pages import logged_in_page, shoot
from tests.support.viewports import SIZES
from tests.web.browser_support import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium for this module (the page tests' own fixture lives in tests/web/conftest.py)."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shop(live_server):
    """One generated merchant with coupon campaigns, committed to the live server's database and exported."""
    with unit_of_work(live_server.session_factory) as db:
        world = generate.build(db, sizes=(160,), members=60, days=120)
        phone = db.get(User, world.owner).phone
    export_facts(live_server.session_factory, live_server.settings.facts_dir)
    return {"phone": phone, "merchant_id": world.merchants[0]}


@pytest.mark.parametrize("size", SIZES)
def test_a_merchant_sees_the_coupon_funnel_chart(browser, live_server, shop, size):
    context, page = logged_in_page(browser, live_server.url, shop["phone"], size, lands_on="/merchant",
                                   accept_downloads=True)
    try:
        page.goto(f"{live_server.url}/merchant/{shop['merchant_id']}/analytics")

        chart = page.get_by_test_id("chart-coupon-funnel")
        expect(chart.locator("canvas")).to_have_count(1)  # ECharts drew it
        series = page.evaluate("""() => echarts.getInstanceByDom(document.querySelector('[data-chart=funnel]'))
                                      .getOption().series[0].data.map((d) => [d.name, d.value])""")
        assert [name for name, _ in series] == ["发放", "领取", "核销"]
        issued, claimed, redeemed = (value for _, value in series)
        assert issued >= claimed and issued >= redeemed > 0
        shoot(page, f"merchant-coupon-funnel-{size}")

        with page.expect_download() as download:
            page.get_by_test_id("csv-coupon-funnel").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        everything = next(r for r in rows if r["campaign_id"] == "" and r["store_id"] == "")
        assert [int(everything[s]) for s in ("issued", "claimed", "redeemed")] == [issued, claimed, redeemed]
    finally:
        context.close()
