"""The search page's stores near you: the category listing's filter bar, rows and map (web.listings), with
the search words kept through every filter and sort."""

import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from daodian.accounts.models import StaffRole
from daodian.records.schemas import ConsumptionLineIn
from tests.factories import add_staff, make_item, make_merchant, make_record, make_store, make_user

CATEGORY = "auto_service.oil_change"
WORDS = "保养换油"  # the category's own name: the search matches the service by text
HERE = {"lat": "30.2590", "lng": "120.1490", "datum": "gcj02"}
ROW = re.compile(r'data-store-card="(\d+)"')


@pytest.fixture
def three(db):
    """Near (cheap, little sold, 3.0★), middle (~780 m, dear, 4.8★), far (~3.4 km, middle price, best seller,
    4.0★), in GCJ-02."""
    owner = make_user(db, name="搜索连锁老板")
    merchant = make_merchant(db, owner, name="搜索三店连锁")
    clerk = make_user(db, name="搜索收银")
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    near = make_store(db, merchant, name="搜近店", lat=30.2590, lng=120.1490, category=CATEGORY)
    middle = make_store(db, merchant, name="搜中店", lat=30.2660, lng=120.1490, category=CATEGORY)
    far = make_store(db, merchant, name="搜远店", lat=30.2900, lng=120.1490, category=CATEGORY)
    for store, rating in ((near, 3.0), (middle, 4.8), (far, 4.0)):
        store.rating_avg, store.rating_count = rating, 12
    item = make_item(db, merchant, [near.id, middle.id, far.id])
    for store, fen, times in ((near, 5000, 1), (middle, 30000, 2), (far, 12000, 4)):
        for _ in range(times):
            make_record(db, store, clerk, lines=[ConsumptionLineIn(service_item_id=item.id, quantity=1, amount_fen=fen)])
    db.flush()
    return {"near": near.id, "middle": middle.id, "far": far.id}


def _page(client, **params) -> str:
    response = client.get("/search", params={"q": WORDS, **params})
    assert response.status_code == 200, response.text
    return response.text


def _order(client, three, **params) -> list[str]:
    names = {v: k for k, v in three.items()}
    return [names[int(i)] for i in ROW.findall(_page(client, **params)) if int(i) in names]


def test_sorts_change_the_order_of_the_stores_near_you(three, client):
    assert _order(client, three, **HERE, sort="distance") == ["near", "middle", "far"]
    assert _order(client, three, **HERE, sort="rating") == ["middle", "far", "near"]
    assert _order(client, three, **HERE, sort="price") == ["near", "far", "middle"]  # 人均 ¥50, ¥120, ¥300
    assert _order(client, three, **HERE, sort="sales") == ["far", "middle", "near"]


def test_distance_and_spend_filter_the_stores_near_you(three, client):
    assert _order(client, three, **HERE, sort="rating", distance="1000") == ["middle", "near"]
    assert _order(client, three, **HERE, sort="rating", distance="500") == ["near"]
    assert _order(client, three, **HERE, sort="rating", price_min="100", price_max="200") == ["far"]
    page = _page(client, **HERE, distance="500", price_min="400")
    assert 'data-testid="no-stores"' in page and 'data-testid="filters"' in page


def test_rows_show_the_listing_figures_and_the_map_data(three, client):
    page = _page(client, **HERE, sort="distance")
    row = page[page.index(f'data-store-card="{three["far"]}"'):]
    row = row[:row.index("</li>")]
    assert 'data-value="4.0"' in row and 'data-fen="12000"' in row and 'data-count="4"' in row
    assert re.search(r'data-metres="3[34]\d\d"', row) and f'data-testid="nearby-store-{three["far"]}"' in row
    assert "data-map-data" in page and '"viewer": [30.259, 120.149]' in page
    assert all(name in page for name in ("全城", "智能排序", "好评优先", "人均从低到高", "销量最高"))


def test_every_filter_link_keeps_the_search_words_and_the_place(three, client):
    page = _page(client, **HERE, sort="rating")
    links = [html_lib.unescape(h) for h in re.findall(r'href="(/search\?[^"]+)"', page)]
    assert len(links) >= 8  # four distances and five sorts less the current one at least
    for link in links:
        args = parse_qs(urlsplit(link).query)
        assert args["q"] == [WORDS] and args["lat"] == ["30.259000"] and args["datum"] == ["gcj02"]
    form = page[page.index('data-testid="filter-form"'):]
    assert f'name="q" value="{WORDS}"' in form[:form.index("</form>")]


def test_without_a_place_the_page_lists_the_city_by_weighted_rating_and_offers_near_me(three, client):
    page = _page(client)
    assert 'data-testid="locate-form"' in page and 'name="distance" value="3000"' in page
    assert _order(client, three) == ["middle", "far", "near"]  # 智能 without a place: the weighted rating
    assert _order(client, three, sort="sales") == ["far", "middle", "near"]
    assert "data-map-data" in page and '"viewer": null' in page and "data-metres" not in page
    assert f'href="/sc/{CATEGORY}"' in page  # no place to keep


def test_service_chips_keep_the_shoppers_place(three, client):
    page = html_lib.unescape(_page(client, **HERE))
    assert f'href="/sc/{CATEGORY}?lat=30.259000&lng=120.149000&datum=gcj02"' in page
