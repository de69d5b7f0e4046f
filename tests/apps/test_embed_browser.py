"""In Debian's Chromium: a merchant's shop page on another origin embeds "services near you"; a page on an
origin the app did not register is refused, in the script and in a frame."""

import http.server
import re
import secrets
import socket
import threading
import time

import httpx
import pytest

from daodian.apps import service as apps
from daodian.coupons import service as coupons
from daodian.coupons.schemas import TemplateCreate
from daodian.geo.datum import Datum, from_wgs84
from daodian.kit.db import unit_of_work
from tests.factories import make_merchant, make_product, make_store, make_user, principal_of
from tests.marketing.helpers import template_body
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

HERE = (30.2500, 120.1500)  # the shopper, WGS-84


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ShopSite:
    """The merchant's own web site: a second HTTP server on another port, serving one page as given."""

    def __init__(self) -> None:
        self.page = b""
        self.port = _free_port()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the standard library's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(site.page)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def origin(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"


@pytest.fixture(scope="module")
def shop_site():
    site = ShopSite()
    site.thread.start()
    yield site
    site.server.shutdown()


@pytest.fixture
def embedded(live_server, shop_site):
    """An app registered for the shop site's origin (as 127.0.0.1 only), a product linked to oil changes, a
    store offering them 300 m from the shopper, and a coupon of the merchant."""
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        owner, developer = make_user(db, name=f"店主{tag}"), make_user(db, name=f"开发者{tag}")
        merchant = make_merchant(db, owner, name=f"汽修{tag}")
        lat, lng = from_wgs84(HERE[0] + 300 / 111_195.0, HERE[1], Datum.GCJ02)
        store = make_store(db, merchant, name=f"换油店{tag}", lat=lat, lng=lng, datum="gcj02",
                           category="auto_service.oil_change")
        product = make_product(db, merchant, category="auto.oil")
        coupons.create_template(db, principal_of(db, owner), merchant.id,
                                TemplateCreate(**template_body(threshold_fen=0, kind="amount", amount_fen=500,
                                                               name=f"换油立减{tag}")))
        app, _ = apps.register_app(db, principal_of(db, developer), name=f"商城插件{tag}", redirect_uris=[],
                                   web_origins=[shop_site.origin()], scopes=["map:read"])
        found = {"client_id": app.client_id, "product_id": product.id, "store_name": store.name, "tag": tag}
    _wait_until_indexed(live_server, found)
    return found


def _wait_until_indexed(live_server, found) -> None:
    """The server's nearby index takes in new stores within its poll interval."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        body = httpx.get(f"{live_server.url}/api/v1/products/{found['product_id']}/services",
                         params={"lat": HERE[0], "lng": HERE[1]}).json()
        if any(hit["store"]["name"] == found["store_name"] for s in body["services"] for hit in s["stores"] or []):
            return
        time.sleep(0.2)
    raise AssertionError("the store never reached the nearby index")


def _shop_page(live_server, found) -> bytes:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body>'
            f'<h1>Our motor oil</h1>'
            f'<script src="{live_server.url}/embed/nearby.js" data-app="{found["client_id"]}" '
            f'data-product="{found["product_id"]}" data-lat="{HERE[0]}" data-lng="{HERE[1]}" data-lang="zh-CN">'
            f'</script></body></html>').encode()


def test_a_registered_origin_shows_nearby_services_and_a_coupon(browser, live_server, shop_site, embedded):
    shop_site.page = _shop_page(live_server, embedded)
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{shop_site.origin()}/product")
        widget = page.locator("[data-daodian-embed=nearby]")
        mine = widget.get_by_test_id("daodian-store").filter(has_text=embedded["store_name"])  # the server is shared
        expect(mine).to_contain_text("300 米")
        expect(mine.get_by_role("link")).to_have_attribute("href", re.compile(rf"^{live_server.url}/s/\d+$"))
        expect(widget.get_by_test_id("daodian-coupons")).to_contain_text(f"换油立减{embedded['tag']}")
        with context.expect_page() as claim_page:
            widget.get_by_test_id("daodian-claim").first.click()
        opened = claim_page.value
        opened.wait_for_load_state()
        assert opened.url.startswith(f"{live_server.url}/coupons")
    finally:
        context.close()


def test_an_unregistered_origin_is_refused(browser, live_server, shop_site, embedded):
    shop_site.page = _shop_page(live_server, embedded)
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{shop_site.origin('localhost')}/product")  # same server, another origin: not registered
        status = page.locator("[data-daodian-embed=nearby]").get_by_test_id("daodian-status")
        expect(status).to_have_attribute("data-error", "refused")
        expect(status).to_have_text("此页面未获准显示该组件。")
        expect(page.locator("[data-daodian-embed=nearby]").get_by_test_id("daodian-store")).to_have_count(0)
    finally:
        context.close()


def test_only_registered_origins_may_frame_it(browser, live_server, shop_site, embedded):
    frame_url = f"{live_server.url}/embed/frame?client_id={embedded['client_id']}&product={embedded['product_id']}" \
                f"&lat={HERE[0]}&lng={HERE[1]}"
    shop_site.page = f'<!doctype html><html><body><iframe id="w" src="{frame_url}" width="500" height="400"></iframe>' \
                     f'</body></html>'.encode()
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{shop_site.origin()}/product")
        framed = page.frame_locator("#w").locator("[data-daodian-embed=nearby]")
        expect(framed.get_by_test_id("daodian-store").filter(has_text=embedded["store_name"])).to_have_count(1)

        blocked = context.new_page()
        messages = []
        blocked.on("console", lambda message: messages.append(message.text))
        blocked.goto(f"{shop_site.origin('localhost')}/product")
        blocked.wait_for_timeout(1500)
        frame = blocked.frames[1] if len(blocked.frames) > 1 else None
        assert frame is None or frame.url in ("", "about:blank", "chrome-error://chromewebdata/") \
            or frame.locator("[data-daodian-embed=nearby]").count() == 0
        assert any("frame-ancestors" in text for text in messages), messages
    finally:
        context.close()
