"""In Debian's Chromium, on a fresh demo city after the facts job, at phone, tablet and desktop sizes: the
checkout's total is what the cashier charges; the merchant's landing figures and dashboards show data; the
operator lands on the operator console; an error page is localised with the real login state; and axe-core
finds no serious or critical violation on the main pages. Each main page is saved as a screenshot under
var/screenshots/ (not committed) for people to look at."""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from daodian.accounts.models import StaffMembership, User
from daodian.c2b.group_buy.models import GroupBuy
from daodian.c2b.presale.models import Presale
from daodian.cli import app as cli
from daodian.kit.db import unit_of_work
from daodian.kit.settings import get_settings
from daodian.merchants.models import Store
from tests.support.databases import drop_database, prepare_database
from tests.support.live_server import LiveServer
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "src" / "daodian" / "web" / "static" / "vendor" / "axe.min.js"
PASSWORD = "daodian-demo"  # the demo logins' password (daodian demo)
OPERATOR, OWNER, CONSUMER = "13800000001", "13800000002", "13800000005"

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def demo(backend, tmp_path_factory):
    """A server on a demo city of its own, with its history exported and the analytics job run."""
    tmp = tmp_path_factory.mktemp("demo17")
    settings = prepare_database(backend, "daodian_test_demo_stories", tmp)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAODIAN_DATABASE_URL", settings.database_url)
        patch.setenv("DAODIAN_FACTS_DIR", str(settings.facts_dir))
        get_settings.cache_clear()
        try:
            for args in (["demo", "--stores", "40", "--consumers", "400"], ["facts", "export"], ["facts", "job"]):
                result = CliRunner().invoke(cli, args)
                assert result.exit_code == 0, result.output
        finally:
            get_settings.cache_clear()
    server = LiveServer(settings)
    with unit_of_work(server.session_factory, read_only=True) as db:  # ids differ between databases
        server.chain = db.scalar(select(StaffMembership.merchant_id).join(User, User.id == StaffMembership.user_id)
                                 .where(User.phone == OWNER))
        server.store = db.scalar(select(Store.id).where(Store.merchant_id == server.chain).order_by(Store.id))
        server.group_buy = db.scalar(select(GroupBuy.id).order_by(GroupBuy.id))
        server.presale = db.scalar(select(Presale.id).order_by(Presale.id))
    server.start()
    yield server
    server.stop()
    drop_database(settings)


def _page(browser, demo, viewport: dict, phone: str | None, next_path: str | None = None):
    # bypass_csp: the test injects axe-core itself; the pages' own scripts run under their policy as always.
    context = browser.new_context(locale="zh-CN", viewport=viewport, has_touch=viewport is PHONE, bypass_csp=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    if phone:
        page.goto(f"{demo.url}/login" + (f"?next={next_path}" if next_path else ""))
        page.get_by_test_id("login-phone").fill(phone)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
    return context, page


def _shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _axe(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
                 .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    return found


def test_the_checkout_total_is_what_the_cashier_charges(browser, demo):
    context, page = _page(browser, demo, PHONE, CONSUMER, f"/s/{demo.store}")
    try:
        page.locator('[data-testid^="buy-item-"]').first.click()
        summary = page.get_by_test_id("checkout-breakdown-total")
        expect(summary).to_be_visible()
        before = int(summary.get_attribute("data-fen"))
        balance = int(re.sub(r"\D", "", page.get_by_test_id("points-balance").inner_text()))
        spend = min(balance, 300, before - 1)
        page.get_by_test_id("points").fill(str(spend))
        expect(summary).not_to_have_attribute("data-fen", str(before)) if spend else None
        expect(page.get_by_test_id("checkout-breakdown-points")).to_have_count(1 if spend else 0)
        total = int(summary.get_attribute("data-fen"))
        assert total == before - spend
        _shoot(page, "checkout-phone")
        assert _axe(page) == []
        page.get_by_test_id("place-order").click()
        expect(page).to_have_url(re.compile(r"/sandbox/pay/\d+\?token="))
        charged = page.locator("[data-amount-fen]").get_attribute("data-amount-fen")
        assert int(charged) == total
    finally:
        context.close()


def test_the_merchants_landing_and_dashboards_show_data(browser, demo):
    context, page = _page(browser, demo, DESKTOP, OWNER, f"/merchant/{demo.chain}")
    try:
        expect(page.get_by_test_id("overview")).to_be_visible()
        assert page.locator('[data-testid^="figure-"]').count() == 5
        _shoot(page, "console-landing-desktop")
        assert _axe(page) == []
        page.goto(f"{demo.url}/merchant/{demo.chain}/analytics")
        data = json.loads(page.locator("#analytics-data").text_content())
        for report in ("sales", "stores", "retention", "segments"):
            shown = [r for r in data["reports"][report]["rows"] if not r.get("suppressed")]
            assert shown, f"{report}: everything below k"
        stores = {r["store_id"] for r in data["reports"]["stores"]["rows"] if r["store_id"] not in (None, 0)}
        assert len(stores) > 1
        for chart in ("sales", "sku-ranking", "stores", "coupon-funnel", "segments", "retention"):
            expect(page.get_by_test_id(f"chart-{chart}").locator("canvas").first).to_be_visible()
        _shoot(page, "merchant-analytics-desktop")
        assert _axe(page) == []
    finally:
        context.close()


def test_the_operator_lands_on_the_operator_console(browser, demo):
    context, page = _page(browser, demo, TABLET, OPERATOR)
    try:
        expect(page).to_have_url(f"{demo.url}/admin")
        for item in ("nav-all-merchants", "nav-categories", "nav-links", "nav-promotions", "nav-platform-analytics"):
            expect(page.get_by_test_id(item)).to_be_visible()
        page.get_by_test_id("nav-categories").click()
        expect(page.get_by_test_id("product-categories")).to_contain_text("auto.oil")
        _shoot(page, "operator-categories-tablet")
        assert _axe(page) == []
    finally:
        context.close()


def test_an_error_page_is_localised_with_the_real_login_state(browser, demo):
    context, page = _page(browser, demo, TABLET, CONSUMER, "/orders")
    try:
        response = page.goto(f"{demo.url}/no/such/page")
        assert response.status == 404
        expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
        expect(page.get_by_test_id("my-orders-link")).to_be_visible()
        _shoot(page, "error-404-tablet")
        assert _axe(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport_name", ["phone", "desktop"])
def test_the_main_consumer_pages_pass_axe(browser, demo, viewport_name):
    viewport = {"phone": PHONE, "desktop": DESKTOP}[viewport_name]
    context, page = _page(browser, demo, viewport, CONSUMER)
    problems = {}
    try:
        for name, path in (("home", "/"), ("store", f"/s/{demo.store}"), ("orders", "/orders"),
                           ("vouchers", "/vouchers"), ("group-buy", f"/group-buys/{demo.group_buy}"),
                           ("presale", f"/presales/{demo.presale}"), ("booking", f"/s/{demo.store}/book")):
            page.goto(f"{demo.url}{path}")
            _shoot(page, f"{name}-{viewport_name}")
            found = _axe(page)
            if found:
                problems[path] = found
    finally:
        context.close()
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_the_api_docs_render_offline_from_local_assets(browser, demo):
    context, page = _page(browser, demo, DESKTOP, None)
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(demo.url) else None)
    try:
        page.goto(f"{demo.url}/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=60_000)  # the whole schema, built once
        assert outside == []
    finally:
        context.close()
