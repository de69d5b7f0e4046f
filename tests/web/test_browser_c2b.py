"""In Debian's Chromium, C2B and segment marketing: a group buy page whose live progress (htmx polling) follows
joins made over HTTP without a reload, and a consumer joining from it; a pre-sale page whose vote counts follow
votes paid over HTTP without a reload (htmx polling as well), and a consumer voting from it; a manager sending
a post to a segment from the console, seeing only the audience's size first."""

import re
import secrets
from datetime import date

import pytest

from daodian.analytics.models import MemberSegment
from daodian.follows import posts
from daodian.follows.schemas import PostIn
from daodian.kit.db import unit_of_work
from tests.factories import auth, make_product, make_user, principal_of, sku_of
from tests.marketing.group_buy_helpers import create_deal, join_and_pay
from tests.marketing.presale_helpers import create_presale, vote_and_pay
from tests.orders.helpers import LiveShop
from tests.support.browser_pages import logged_in_page
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

POLL = 15_000  # the progress fragment polls every 3 s: a few polls' worth, on a busy machine


@pytest.fixture
def live_shop(live_server) -> LiveShop:
    return LiveShop(live_server, item_price_fen=12900, name=f"拼团车行{secrets.token_hex(3)}")


def _shoppers(live_server, count: int) -> list[dict]:
    """Consumers committed to the live server's database, as API headers."""
    with unit_of_work(live_server.session_factory) as session:
        return [auth(session, make_user(session, name=f"团友{i}")) for i in range(count)]


def _logged_in(browser, live_server, phone: str, next_path: str, size: str = "phone"):
    return logged_in_page(browser, live_server.url, phone, size, next_path=next_path)


def _pay_on_the_order_page(page) -> None:
    """From an unpaid order's page through the sandbox cashier and back, until the payment is confirmed."""
    page.get_by_test_id("pay").click()
    page.locator('button[value="pay"]').click()
    expect(page.get_by_role("status")).to_be_visible()
    page.get_by_test_id("back-to-order").click()
    expect(page.get_by_test_id("order-status")).not_to_have_attribute("data-status", "created")


def test_group_buy_progress_follows_joins_live_and_a_consumer_joins_from_the_page(browser, live_server, live_shop):
    with live_shop.client() as http:
        deal = create_deal(http, live_shop.shop.merchant.id, live_shop.manager_auth, live_shop.shop.item.id)
        join_and_pay(http, live_server.settings, _shoppers(live_server, 1)[0], deal["id"])

        context, page = _logged_in(browser, live_server, live_shop.consumer.phone, f"/group-buys/{deal['id']}")
        try:
            assert page.evaluate("typeof window.htmx") == "object", "htmx not served; run `make assets`"
            progress = page.get_by_test_id("group-buy-progress")
            expect(progress.get_by_test_id("participants")).to_have_text("已付款参团 1 人")
            expect(progress).to_contain_text("未达最低成团人数 2 人")
            expect(progress.get_by_test_id("next-tier")).to_have_text("再差 1 人即享 ¥99.00")
            expect(progress.get_by_test_id("current-price")).to_have_count(0)
            page.evaluate("window.notReloaded = true")

            for headers in _shoppers(live_server, 3):  # three more pay: 4 reaches the second tier
                join_and_pay(http, live_server.settings, headers, deal["id"])

            expect(progress.get_by_test_id("participants")).to_have_text("已付款参团 4 人", timeout=POLL)
            expect(progress.get_by_test_id("current-price")).to_have_text("当前成团价：¥79.00")
            expect(progress.get_by_test_id("next-tier")).to_have_text("再差 2 人即享 ¥59.00")
            assert page.evaluate("window.notReloaded === true"), "the page reloaded instead of swapping the fragment"

            page.get_by_test_id("join").click()  # joiners pay the top price; the difference is refunded later
            expect(page).to_have_url(re.compile(rf"{live_server.url}/orders/\d+$"))
            expect(page.get_by_test_id("order-total")).to_contain_text("99.00")
            order_url = page.url
            _pay_on_the_order_page(page)

            page.goto(f"{live_server.url}/group-buys/{deal['id']}")
            progress = page.get_by_test_id("group-buy-progress")
            expect(progress.get_by_test_id("participants")).to_have_text("已付款参团 5 人")
            expect(progress.get_by_test_id("next-tier")).to_have_text("再差 1 人即享 ¥59.00")
            page.get_by_test_id("join").click()  # a second join is the same join: back to the same, paid order
            expect(page).to_have_url(order_url)
            expect(page.get_by_test_id("order-status")).not_to_have_attribute("data-status", "created")
        finally:
            context.close()


def test_presale_votes_show_on_the_page_and_a_consumer_votes_from_it(browser, live_server, live_shop):
    shop = live_shop.shop
    with unit_of_work(live_server.session_factory) as session:
        second_sku = sku_of(session, make_product(session, shop.merchant, name="防滑脚垫", price_fen=19900)).id
    with live_shop.client() as http:
        sale = create_presale(http, shop.merchant.id, live_shop.manager_auth, [shop.sku.id, second_sku], threshold=3)
        first, second = (c["id"] for c in sale["candidates"])
        voters = _shoppers(live_server, 2)
        vote_and_pay(http, live_server.settings, voters[0], sale["id"], first, shop.store.id)

        context, page = _logged_in(browser, live_server, live_shop.consumer.phone, f"/presales/{sale['id']}")
        try:
            assert page.evaluate("typeof window.htmx") == "object", "htmx not served; run `make assets`"
            expect(page.get_by_test_id(f"votes-{first}")).to_have_text("已有 1 票 / 需 3 票")
            expect(page.get_by_test_id(f"votes-{second}")).to_have_text("已有 0 票 / 需 3 票")
            expect(page.get_by_test_id("time-left")).to_contain_text("还剩 2 天")
            candidate = page.get_by_test_id(f"candidate-{first}")
            candidate.locator('select[name="store_id"]').select_option(str(shop.store.id))
            page.evaluate("window.notReloaded = true")

            vote_and_pay(http, live_server.settings, voters[1], sale["id"], first, shop.store.id)
            expect(page.get_by_test_id(f"votes-{first}")).to_have_text("已有 2 票 / 需 3 票", timeout=POLL)
            expect(page.get_by_test_id(f"votes-{second}")).to_have_text("已有 0 票 / 需 3 票")
            expect(candidate.get_by_test_id(f"votes-{first}")).to_have_count(1)  # swapped into its own panel
            assert page.evaluate("window.notReloaded === true"), "the page reloaded instead of swapping the fragment"
            assert candidate.locator('select[name="store_id"]').input_value() == str(shop.store.id)  # form kept

            page.get_by_test_id(f"vote-{first}").click()
            expect(page.get_by_test_id("order-total")).to_contain_text("50.00")  # the deposit
            _pay_on_the_order_page(page)

            page.goto(f"{live_server.url}/presales/{sale['id']}")
            expect(page.get_by_test_id(f"votes-{first}")).to_have_text("已有 3 票 / 需 3 票")
            expect(page.get_by_test_id(f"votes-{second}")).to_have_text("已有 0 票 / 需 3 票")
            # one vote per consumer and candidate: the page says how they voted instead of offering it again
            expect(page.get_by_test_id(f"my-vote-{first}")).to_contain_text("您已为此候选商品投票")
            expect(page.get_by_test_id(f"vote-{first}")).to_have_count(0)
        finally:
            context.close()


def test_a_manager_sends_a_post_to_a_segment_after_seeing_its_size(browser, live_server, live_shop):
    shop = live_shop.shop
    with unit_of_work(live_server.session_factory) as session:
        # 12 newcomers, 10 regulars (all members minus the newcomers: 13, not a small group), 3 big spenders
        for count, values in ((12, {"segment": "new"}), (10, {"frequency": 2}), (3, {"m_score": 5})):
            for user in (make_user(session, name="会员") for _ in range(count)):
                session.add(MemberSegment(
                    merchant_id=shop.merchant.id, consumer_id=user.id, first_purchase_on=date(2026, 1, 1),
                    last_purchase_on=date(2026, 11, 1), as_of=date(2026, 11, 21),
                    **({"segment": "active", "recency_days": 10, "frequency": 1, "monetary_fen": 10000,
                        "r_score": 3, "f_score": 3, "m_score": 3} | values)))
        post = posts.create_post(session, principal_of(session, shop.manager), shop.merchant.id,
                                 PostIn(title="新客专享洗车", body="首次到店立减10元"))
        post_id = post.id

    context, page = _logged_in(browser, live_server, shop.manager.phone, f"/merchant/{shop.merchant.id}/posts",
                               size="desktop")
    try:
        page.get_by_test_id(f"send-post-{post_id}").click()
        expect(page.get_by_test_id("post-title")).to_have_text("新客专享洗车")
        page.get_by_test_id("segment").select_option("high_value")
        page.get_by_test_id("check-audience").click()
        expect(page.get_by_test_id("audience-size")).to_have_text("少于 10 人")
        expect(page.get_by_test_id("audience-suppressed")).to_be_visible()
        expect(page.get_by_test_id("send-campaign")).to_have_count(0)

        page.get_by_test_id("segment").select_option("new")
        page.get_by_test_id("check-audience").click()
        expect(page.get_by_test_id("audience-size")).to_have_text("12")
        page.get_by_test_id("send-campaign").click()
        expect(page.get_by_test_id("notice")).to_have_text("已向该人群发送动态")
        rows = page.get_by_test_id("post-campaign-list").locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first.locator('[data-testid^="campaign-segment-"]')).to_have_text("新客")
        expect(rows.first.locator('[data-testid^="campaign-audience-"]')).to_have_text("12")
    finally:
        context.close()
