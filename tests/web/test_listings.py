"""The service category listing: filter bar, sort, open now, 人均 and 已售, photos, distance."""

import re

import pytest

from daodian.accounts.models import StaffRole
from daodian.records.schemas import ConsumptionLineIn
from daodian.web import listings
from tests.factories import add_staff, make_item, make_merchant, make_record, make_store, make_user

CATEGORY = "auto_service.oil_change"
ROW = re.compile(r'data-store-card="(\d+)"')


@pytest.fixture
def three(db):
    """Near (cheap, little sold, 3.0★), middle (dear, 4.8★), far (middle price, best seller, 4.0★), in GCJ-02."""
    owner = make_user(db, name="连锁老板")
    merchant = make_merchant(db, owner, name="三店连锁")
    clerk = make_user(db, name="收银")
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    near = make_store(db, merchant, name="近店", lat=30.2590, lng=120.1490, category=CATEGORY)
    middle = make_store(db, merchant, name="中店", lat=30.2660, lng=120.1490, category=CATEGORY)  # ~780 m
    far = make_store(db, merchant, name="远店", lat=30.2900, lng=120.1490, category=CATEGORY)  # ~3.4 km
    for store, rating in ((near, 3.0), (middle, 4.8), (far, 4.0)):
        store.rating_avg, store.rating_count = rating, 12
    item = make_item(db, merchant, [near.id, middle.id, far.id])

    def sell(store, fen, times):
        for _ in range(times):
            make_record(db, store, clerk, lines=[ConsumptionLineIn(service_item_id=item.id, quantity=1, amount_fen=fen)])
    sell(near, 5000, 1)
    sell(middle, 30000, 2)
    sell(far, 12000, 4)
    db.flush()
    return {"near": near.id, "middle": middle.id, "far": far.id}


def _order(client, params) -> list[int]:
    response = client.get(f"/sc/{CATEGORY}", params=params)
    assert response.status_code == 200, response.text
    return [int(i) for i in ROW.findall(response.text)]


def _mine(order, three) -> list[str]:
    names = {v: k for k, v in three.items()}
    return [names[i] for i in order if i in names]


def test_sorts_change_the_order(three, client):
    assert _mine(_order(client, {"sort": "rating"}), three) == ["middle", "far", "near"]
    assert _mine(_order(client, {"sort": "price"}), three) == ["near", "far", "middle"]  # 人均 ¥50, ¥120, ¥300
    assert _mine(_order(client, {"sort": "sales"}), three) == ["far", "middle", "near"]


def test_rows_show_spend_sold_rating_and_no_distance_without_a_position(three, client):
    page = client.get(f"/sc/{CATEGORY}").text
    assert 'data-testid="filters"' in page and 'data-testid="locate"' in page
    assert 'data-fen="30000"' in page and 'data-count="4"' in page and 'data-value="4.8"' in page
    assert 'data-testid="row-distance"' not in page


def test_price_range_filters_on_spend_per_person(three, client):
    assert _mine(_order(client, {"price_min": "100", "price_max": "200"}), three) == ["far"]


def test_near_the_shopper_distance_sorts_and_the_radius_filters(three, client):
    here = {"lat": "30.2590", "lng": "120.1490", "datum": "gcj02"}
    assert _mine(_order(client, {**here, "sort": "distance"}), three) == ["near", "middle", "far"]
    assert _mine(_order(client, {**here, "sort": "distance", "distance": "1000"}), three) == ["near", "middle"]
    assert _mine(_order(client, {**here, "sort": "distance", "distance": "500"}), three) == ["near"]
    page = client.get(f"/sc/{CATEGORY}", params={**here, "sort": "distance"}).text
    assert 'data-metres="0"' in page and 'data-testid="distance-500"' in page


def test_the_map_gets_markers_in_the_tiles_datum(three, client, app):
    page = client.get(f"/sc/{CATEGORY}", params={"lat": "30.2590", "lng": "120.1490", "datum": "gcj02"}).text
    assert 'data-map-data' in page and '"datum": "gcj02"' in page
    # The store was entered in GCJ-02 at 30.2590,120.1490: on GCJ-02 tiles the marker sits there again.
    assert "[30.259, 120.149]" in page


def test_junk_in_the_query_string_falls_back_to_defaults():
    query = listings.parse({"sort": "cheapest", "distance": "9km", "price_min": "-5", "lat": "nan", "lng": "1"})
    assert query == listings.ListingQuery()




def test_the_pages_allow_images_from_the_tile_server_only(three, client):
    policy = client.get(f"/sc/{CATEGORY}").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://*.is.autonavi.com;" in policy


def test_the_filter_bar_speaks_chinese_and_english(three, client):
    zh = client.get(f"/sc/{CATEGORY}", params={"lat": "30.2590", "lng": "120.1490", "datum": "gcj02"}).text
    assert all(word in zh for word in ("全城", "智能排序", "好评优先", "人均从低到高", "销量最高", "已售 4（近30天）"))
    client.cookies.set("daodian_lang", "en")
    en = client.get(f"/sc/{CATEGORY}", params={"lat": "30.2590", "lng": "120.1490", "datum": "gcj02"}).text
    assert all(word in en for word in ("Whole city", "Best match", "Top rated", "Sold 4 (30 days)", "per person"))
