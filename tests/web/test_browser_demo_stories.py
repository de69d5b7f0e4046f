"""In Debian's Chromium, on a fresh demo city after the facts job, each story at phone, tablet and desktop sizes
(tests.support.viewports): the checkout's total is what the cashier charges and prices read as money; the
merchant's landing figures and dashboards show data; the counter screen takes a code; the operator lands on the
operator console; an error page is localised with the real login state; the consumer's main pages show their
parts (order tabs, group buy countdown, pre-sale vote); /docs renders offline; and axe-core finds no serious or
critical violation on the main pages. Each main page is saved as a screenshot under var/screenshots/ (not
committed) for people to look at."""

import json
import re

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
from tests.support.axe import serious_violations as _axe
from tests.support.browser_pages import log_in, new_page
from tests.support.browser_pages import shoot as _shoot
from tests.support.databases import drop_database, prepare_database
from tests.support.live_server import LiveServer
from tests.support.viewports import SIZES
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PASSWORD = "daodian-demo"  # the demo logins' password (daodian demo)
OPERATOR, OWNER, CONSUMER = "13800000001", "13800000002", "13800000005"
MONEY = re.compile(r"[−-]?¥\d{1,3}(,\d{3})*\.\d{2}")


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
        # open ones: the countdown and the vote buttons are there while the deal takes joins and votes
        server.group_buy = db.scalar(select(GroupBuy.id).where(GroupBuy.status == "open").order_by(GroupBuy.id))
        server.presale = db.scalar(select(Presale.id).where(Presale.status == "open").order_by(Presale.id))
        assert server.group_buy and server.presale, "the demo city has no open group buy or pre-sale"
    server.start()
    yield server
    server.stop()
    drop_database(settings)


def _page(browser, demo, size: str, phone: str | None, next_path: str | None = None):
    # bypass_csp: the test injects axe-core itself; the pages' own scripts run under their policy as always.
    context, page = new_page(browser, size, timeout_ms=20_000, bypass_csp=True)
    if phone:
        try:
            log_in(page, demo.url, phone, password=PASSWORD, next_path=next_path)
        except BaseException:
            context.close()
            raise
    return context, page


def _prices_look_like_money(page) -> None:
    """Every price on the page reads as yuan: ¥, thousands separated, two decimals."""
    shown = page.locator(".price").all_inner_texts()
    assert shown, "no price on the page"
    wrong = [p for p in shown if not MONEY.fullmatch(p.strip())]
    assert not wrong, wrong


@pytest.mark.parametrize("size", SIZES)
def test_the_checkout_total_is_what_the_cashier_charges(browser, demo, size):
    context, page = _page(browser, demo, size, CONSUMER, f"/s/{demo.store}")
    try:
        page.locator('[data-testid^="buy-item-"]').first.click()
        summary = page.get_by_test_id("checkout-breakdown-total")
        expect(summary).to_be_visible()
        _prices_look_like_money(page)
        before = int(summary.get_attribute("data-fen"))
        balance = int(re.sub(r"\D", "", page.get_by_test_id("points-balance").inner_text()))
        spend = min(balance, 300, before - 1)
        page.get_by_test_id("points").fill(str(spend))
        expect(summary).not_to_have_attribute("data-fen", str(before)) if spend else None
        expect(page.get_by_test_id("checkout-breakdown-points")).to_have_count(1 if spend else 0)
        total = int(summary.get_attribute("data-fen"))
        assert total == before - spend
        _shoot(page, f"checkout-{size}")
        assert _axe(page) == []
        page.get_by_test_id("place-order").click()
        expect(page).to_have_url(re.compile(r"/sandbox/pay/\d+\?token="))
        charged = page.locator("[data-amount-fen]").get_attribute("data-amount-fen")
        assert int(charged) == total
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_merchants_landing_and_dashboards_show_data(browser, demo, size):
    context, page = _page(browser, demo, size, OWNER, f"/merchant/{demo.chain}")
    try:
        expect(page.get_by_test_id("overview")).to_be_visible()
        assert page.locator('[data-testid^="figure-"]').count() == 5
        _shoot(page, f"console-landing-{size}")
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
        _shoot(page, f"merchant-analytics-{size}")
        assert _axe(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_counter_screen_takes_a_code_and_says_what_is_wrong(browser, demo, size):
    context, page = _page(browser, demo, size, OWNER, f"/merchant/counter/{demo.store}/verify")
    try:
        field = page.get_by_test_id("verify-code")
        expect(field).to_be_focused()
        field.fill("0000-0000-0000")
        field.press("Enter")
        expect(page.get_by_test_id("verify-error")).to_have_attribute("data-code", "voucher_not_found")
        expect(field).to_be_focused()
        _shoot(page, f"counter-{size}")
        assert _axe(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_operator_lands_on_the_operator_console(browser, demo, size):
    context, page = _page(browser, demo, size, OPERATOR)
    try:
        expect(page).to_have_url(f"{demo.url}/admin")
        for item in ("nav-all-merchants", "nav-categories", "nav-links", "nav-promotions", "nav-platform-analytics"):
            expect(page.get_by_test_id(item)).to_be_visible()
        page.get_by_test_id("nav-categories").click()
        expect(page.get_by_test_id("product-categories")).to_contain_text("auto.oil")
        _shoot(page, f"operator-categories-{size}")
        assert _axe(page) == []
        problems = {}
        for name, path in (("operator-merchants", "/admin/merchants"), ("operator-promotions", "/admin/promotions"),
                           ("operator-category-rename", "/admin/categories/service/auto_service.car_wash"),
                           ("operator-pending", "/admin")):
            page.goto(f"{demo.url}{path}")
            _shoot(page, f"{name}-{size}")
            if found := _axe(page):
                problems[path] = found
        assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_an_error_page_is_localised_with_the_real_login_state(browser, demo, size):
    context, page = _page(browser, demo, size, CONSUMER, "/orders")
    try:
        response = page.goto(f"{demo.url}/no/such/page")
        assert response.status == 404
        expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
        expect(page.get_by_test_id("my-orders-link")).to_be_visible()
        _shoot(page, f"error-404-{size}")
        assert _axe(page) == []
    finally:
        context.close()


# The consumer's main pages, and what each must show at every size (part 4: order tabs, group buy countdown,
# pre-sale vote, booking days).
CONSUMER_PAGES = (("home", "/", None), ("store", "/s/{store}", None), ("orders", "/orders", "order-tabs"),
                  ("vouchers", "/vouchers", None), ("group-buy", "/group-buys/{group_buy}", "countdown"),
                  ("presale", "/presales/{presale}", "time-left"), ("booking", "/s/{store}/book", None))


@pytest.mark.parametrize("size", SIZES)
def test_the_main_consumer_pages_show_their_parts_and_pass_axe(browser, demo, size):
    context, page = _page(browser, demo, size, CONSUMER)
    problems = {}
    try:
        for name, path, part in CONSUMER_PAGES:
            page.goto(demo.url + path.format(store=demo.store, group_buy=demo.group_buy, presale=demo.presale))
            if part:
                expect(page.get_by_test_id(part)).to_be_visible()
            if name == "store":
                _prices_look_like_money(page)
            if name == "presale":
                expect(page.locator('button[data-testid^="vote-"], [data-testid^="my-vote-"]').first).to_be_visible()
            _shoot(page, f"{name}-{size}")
            if found := _axe(page):
                problems[path] = found
        page.goto(f"{demo.url}/orders")
        page.get_by_test_id("tab-to_use").click()
        expect(page.get_by_test_id("tab-to_use")).to_have_attribute("aria-current", "page")
        expect(page.get_by_test_id("order-list")).to_have_attribute("data-tab", "to_use")
    finally:
        context.close()
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("size", SIZES)
def test_the_api_docs_render_offline_from_local_assets(browser, demo, size):
    context, page = _page(browser, demo, size, None)
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(demo.url) else None)
    try:
        page.goto(f"{demo.url}/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=60_000)  # the whole schema, built once
        assert outside == []
        _shoot(page, f"api-docs-{size}")
    finally:
        context.close()
