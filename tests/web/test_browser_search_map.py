"""In Debian's Chromium, on phone, tablet and desktop sizes: a shopper searches, taps "near me" (the browser reports
its position), gets the stores near them with the category listing's filter bar, changes the order, and
switches to the map, which shows the stores' markers and the shopper with the tiles unreachable (no network
here). Screenshots go to var/screenshots/ (not committed)."""

import secrets

import pytest

from daodian.accounts.models import StaffRole
from daodian.kit.db import unit_of_work
from daodian.records.schemas import ConsumptionLineIn
from tests.factories import add_staff, make_item, make_merchant, make_record, make_store, make_user
from tests.support.browser_pages import SCREENSHOTS, new_page
from tests.support.viewports import SIZES
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CATEGORY, WORDS = "auto_service.car_wash", "洗车"
# Somewhere no other test puts stores (the category map's story is some 100 km east).
HERE_LAT, HERE_LNG = 29.4000, 120.6000


@pytest.fixture(scope="module")
def washes(live_server):
    tag = secrets.token_hex(3)
    with unit_of_work(live_server.session_factory) as db:
        owner = make_user(db, name=f"搜索洗车老板{tag}")
        merchant = make_merchant(db, owner, name=f"搜索洗车{tag}")
        clerk = make_user(db, name=f"搜索收银{tag}")
        add_staff(db, merchant, clerk, StaffRole.CLERK)
        made = {}
        for key, dlat, rating in (("a", 0.000, 3.6), ("b", 0.003, 4.8), ("c", 0.006, 4.2)):
            store = make_store(db, merchant, name=f"搜洗{key}{tag}", lat=HERE_LAT + dlat, lng=HERE_LNG,
                               category=CATEGORY)
            store.rating_avg, store.rating_count = rating, 30
            made[key] = store
        item = make_item(db, merchant, [s.id for s in made.values()])
        for store in made.values():
            make_record(db, store, clerk, lines=[ConsumptionLineIn(service_item_id=item.id, quantity=1,
                                                                   amount_fen=6000)])
        return {k: s.id for k, s in made.items()}


def _row_ids(page, ids) -> list[int]:
    mine = set(ids.values())
    found = [int(x) for x in page.locator("[data-store-card]").evaluate_all(
        "rows => rows.map(r => r.dataset.storeCard)")]
    return [i for i in found if i in mine]


@pytest.mark.parametrize("size", SIZES)
def test_search_near_me_lists_sorts_and_maps_the_stores(browser, live_server, washes, size):
    context, page = new_page(browser, size, timeout_ms=10_000, geolocation={"latitude": HERE_LAT, "longitude": HERE_LNG},
                             permissions=["geolocation"])
    tile_requests = []
    page.on("request", lambda r: tile_requests.append(r.url) if "appmaptile" in r.url else None)
    try:
        page.goto(f"{live_server.url}/search?q={WORDS}")
        page.get_by_test_id("locate").click()
        stores = page.get_by_test_id("search-stores")
        expect(stores).to_be_visible()
        expect(stores.get_by_test_id("filters")).to_be_visible()
        expect(stores.get_by_test_id("distance-3000")).to_have_attribute("aria-current", "true")
        assert len(_row_ids(page, washes)) == 3
        stores.get_by_test_id("sort-rating").click()
        expect(page.get_by_test_id("sort-rating")).to_have_attribute("aria-current", "true")
        assert _row_ids(page, washes) == [washes["b"], washes["c"], washes["a"]]
        assert "q=" in page.url and "lat=" in page.url  # the search words and the place survive a sort
        page.get_by_test_id("view-map").click()
        the_map = page.get_by_test_id("map")
        expect(the_map).to_be_visible()
        expect(page.get_by_test_id("stores")).to_be_hidden()
        expect(the_map.locator(".leaflet-marker-icon").first).to_be_visible()
        counted = sum(int(t or 1) for t in the_map.locator(".leaflet-marker-icon").evaluate_all(
            "els => els.map(e => e.classList.contains('marker-cluster') ? e.innerText : '1')"))
        assert counted >= 3
        expect(the_map.locator(".viewer-dot")).to_have_count(1)
        expect(the_map.locator(".leaflet-control-attribution")).to_contain_text("AutoNavi")
        assert tile_requests  # the map asked for tiles, and none came: the markers stand without them
        page.screenshot(path=str(SCREENSHOTS / f"search-map-{size}.png"))
        page.get_by_test_id("view-list").click()
        expect(page.get_by_test_id("stores")).to_be_visible()
    finally:
        context.close()
