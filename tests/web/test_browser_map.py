"""In Debian's Chromium, on phone, tablet and desktop sizes: the category listing's map shows its markers, the
shopper, the scale and the attribution with the tiles unreachable (no network here); tapping a marker opens
the store card; the filter bar's sorts change the order; a photo uploaded with a GPS position in its EXIF
comes back without it. Screenshots of each page go to var/screenshots/ (not committed)."""

import io
import secrets

import pytest
from PIL import Image

from daodian.accounts.models import StaffRole
from daodian.kit.db import unit_of_work
from daodian.records.schemas import ConsumptionLineIn
from tests.factories import add_staff, make_item, make_merchant, make_record, make_store, make_user
from tests.media.support import has_gps, jpeg_with_gps
from tests.support.browser_pages import SCREENSHOTS, log_in, new_page
from tests.support.viewports import SIZES
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CATEGORY = "auto_service.car_wash"
# Somewhere no other test puts stores: the listing near it holds only this module's.
HERE_LAT, HERE_LNG = 29.8700, 121.5400


@pytest.fixture(scope="module")
def chain(live_server):
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        owner = make_user(db, name=f"洗车老板{tag}")
        merchant = make_merchant(db, owner, name=f"洗车连锁{tag}")
        clerk = make_user(db, name=f"收银{tag}")
        add_staff(db, merchant, clerk, StaffRole.CLERK)
        made = {}
        spend = {"a": 8000, "b": 30000, "c": 2500, "d": 15000}  # one visit each: 人均 = this
        for key, dlat, rating in (("a", 0.000, 3.2), ("b", 0.004, 4.9), ("c", 0.008, 4.1), ("d", 0.0005, 4.5)):
            store = make_store(db, merchant, name=f"洗车{key}{tag}", lat=HERE_LAT + dlat, lng=HERE_LNG,
                               category=CATEGORY)
            store.rating_avg, store.rating_count = rating, 20
            made[key] = store
        item = make_item(db, merchant, [s.id for s in made.values()])
        for key, store in made.items():
            make_record(db, store, clerk, lines=[ConsumptionLineIn(service_item_id=item.id, quantity=1,
                                                                   amount_fen=spend[key])])
        return {"phone": owner.phone, "ids": {k: s.id for k, s in made.items()}}


def _open(browser, size):
    return new_page(browser, size, timeout_ms=10_000, geolocation={"latitude": HERE_LAT, "longitude": HERE_LNG})


def _listing_url(live_server, **extra) -> str:
    params = {"lat": f"{HERE_LAT}", "lng": f"{HERE_LNG}", "datum": "gcj02", "distance": "3000", **extra}
    return f"{live_server.url}/sc/{CATEGORY}?" + "&".join(f"{k}={v}" for k, v in params.items())


def _row_ids(page, ids) -> list[int]:
    mine = set(ids.values())
    found = [int(x) for x in page.locator("[data-store-card]").evaluate_all(
        "rows => rows.map(r => r.dataset.storeCard)")]
    return [i for i in found if i in mine]


@pytest.mark.parametrize("size", SIZES)
def test_map_shows_markers_scale_and_attribution_without_tiles(browser, live_server, chain, size):
    context, page = _open(browser, size)
    failed_tiles = []
    page.on("requestfailed", lambda r: failed_tiles.append(r.url) if "appmaptile" in r.url else None)
    try:
        page.goto(_listing_url(live_server))
        expect(page.get_by_test_id("filters")).to_be_visible()
        page.get_by_test_id("view-map").click()
        the_map = page.get_by_test_id("map")
        expect(the_map).to_be_visible()
        # Four stores within a few hundred metres: markers or clusters, whichever the zoom gives.
        expect(the_map.locator(".leaflet-marker-icon").first).to_be_visible()
        icons = the_map.locator(".leaflet-marker-icon")
        counted = sum(int(t or 1) for t in icons.evaluate_all(
            "els => els.map(e => e.classList.contains('marker-cluster') ? e.innerText : '1')"))
        assert counted >= 4
        expect(the_map.locator(".viewer-dot")).to_have_count(1)
        expect(the_map.locator(".leaflet-control-scale-line").first).to_be_visible()
        expect(the_map.locator(".leaflet-control-attribution")).to_contain_text("AutoNavi")
        page.screenshot(path=str(SCREENSHOTS / f"category-map-{size}.png"))
        # Tap a marker (zoom in first so none is clustered) and its store card opens.
        for _ in range(6):
            if the_map.locator(".leaflet-marker-icon:not(.marker-cluster)").count():
                break
            the_map.locator(".leaflet-control-zoom-in").click()
            page.wait_for_timeout(350)
        the_map.locator(".leaflet-marker-icon:not(.marker-cluster)").first.click()
        card = the_map.get_by_test_id("map-card")
        expect(card).to_be_visible()
        assert card.locator("a").get_attribute("href").startswith("/s/")
        page.screenshot(path=str(SCREENSHOTS / f"category-map-card-{size}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_filter_and_sort_change_the_order(browser, live_server, chain, size):
    ids = chain["ids"]
    context, page = _open(browser, size)
    try:
        page.goto(_listing_url(live_server, sort="distance"))
        assert _row_ids(page, ids) == [ids["a"], ids["d"], ids["b"], ids["c"]]
        page.get_by_test_id("sort-rating").click()
        expect(page.get_by_test_id("sort-rating")).to_have_attribute("aria-current", "true")
        assert _row_ids(page, ids) == [ids["b"], ids["d"], ids["c"], ids["a"]]
        page.get_by_test_id("sort-price").click()
        expect(page.get_by_test_id("sort-price")).to_have_attribute("aria-current", "true")
        assert _row_ids(page, ids) == [ids["c"], ids["a"], ids["d"], ids["b"]]
        page.get_by_test_id("price-min").fill("50")
        page.get_by_test_id("price-max").fill("200")
        page.get_by_test_id("apply-filters").click()
        expect(page.get_by_test_id("price-min")).to_have_value("50")
        assert _row_ids(page, ids) == [ids["a"], ids["d"]]
        page.get_by_test_id("distance-500").click()
        expect(page.get_by_test_id("distance-500")).to_have_attribute("aria-current", "true")
        assert _row_ids(page, ids) == [ids["a"], ids["d"]]  # b and c are 450 m and 900 m north: c leaves
        page.screenshot(path=str(SCREENSHOTS / f"category-list-{size}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_uploaded_photo_comes_back_without_gps(browser, live_server, chain, size, tmp_path):
    ids = chain["ids"]
    upload = tmp_path / "with-gps.jpg"
    upload.write_bytes(jpeg_with_gps(1200, 900))
    assert has_gps(upload.read_bytes())
    context, page = _open(browser, size)
    try:
        log_in(page, live_server.url, chain["phone"], lands_on="/merchant")
        page.goto(f"{live_server.url}/merchant/stores/{ids['a']}/photos")
        before = page.get_by_test_id("photo-thumb").count()
        page.get_by_test_id("photo-file").set_input_files(str(upload))
        page.get_by_test_id("photo-upload").click()
        expect(page.get_by_test_id("photo-thumb")).to_have_count(before + 1)
        full = page.get_by_test_id("photo-thumb").last.get_attribute("data-full")
        served = page.request.get(f"{live_server.url}{full}")
        assert served.ok and served.headers["content-type"] == "image/jpeg"
        assert "immutable" in served.headers["cache-control"]
        assert not has_gps(served.body())
        with Image.open(io.BytesIO(served.body())) as image:
            assert image.size == (1200, 900)
        page.screenshot(path=str(SCREENSHOTS / f"console-photos-{size}.png"), full_page=True)
        # A text file named .jpg is refused with its code, the page stays usable.
        bad = tmp_path / "not-an-image.jpg"
        bad.write_bytes(b"hello")
        page.get_by_test_id("photo-file").set_input_files(str(bad))
        page.get_by_test_id("photo-upload").click()
        expect(page.get_by_test_id("photo-error")).to_have_attribute("data-code", "image_invalid")
        # The store page shows the photos; the listing row shows the cover.
        page.goto(f"{live_server.url}/s/{ids['a']}")
        expect(page.get_by_test_id("store-photos").locator("img").first).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"store-{size}.png"), full_page=True)
        page.goto(_listing_url(live_server, sort="distance"))
        expect(page.locator(f'[data-store-card="{ids["a"]}"]').get_by_test_id("row-photo")).to_be_visible()
    finally:
        context.close()
