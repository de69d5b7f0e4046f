"""The search page at /search, in Chinese (the default) and English."""

import re

import pytest

from daodian.kit.html.rendering import LANG_COOKIE
from tests.search.conftest import HERE


def page(client, **params) -> str:
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_chinese_page_shows_products_and_services(api, world):
    html = page(api, q="luntai")
    assert 'lang="zh-CN"' in html
    assert 'data-testid="search-products"' in html and f'href="/p/{world.tyre.id}"' in html
    assert "米其林轮胎 205/55R16" in html and "轮胎安装" in html
    # Without a place: the services' stores across the city (web.search_pages), and the button to locate.
    assert 'data-testid="locate-form"' in html and 'data-testid="search-stores"' in html and "全城门店" in html
    assert f'data-store-card="{world.tyre_near.id}"' in html and f'data-store-card="{world.tyre_far.id}"' in html


def test_english_page_uses_english_names(api, world):
    api.cookies.set(LANG_COOKIE, "en")
    html = page(api, q="轮胎")
    assert 'lang="en"' in html
    assert "Michelin tyre 205/55R16" in html and "Tyre fitting" in html
    assert "Results for" in html and "Stores near you" not in html


def test_page_with_a_location_lists_nearby_stores(api, world):
    html = page(api, q="轮胎", lat=str(HERE[0]), lng=str(HERE[1]), datum="wgs84")
    assert 'data-testid="search-stores"' in html and 'data-testid="locate-form"' not in html
    assert html.index(f'nearby-store-{world.tyre_near.id}') < html.index(f'nearby-store-{world.tyre_far.id}')
    row = html[html.index(f'nearby-store-{world.tyre_near.id}'):html.index(f'nearby-store-{world.tyre_far.id}')]
    assert "轮胎近店" in row and re.search(r"\b6\d\d (米|m)</span>", row), row  # about 600 m away


@pytest.mark.parametrize("q", ["", "   ", "😀", "\x00", "<script>alert(1)</script>", "轮" * 5000, "xyzzy"])
def test_odd_queries_render_a_page(api, q):
    html = page(api, q=q)
    assert "<script>alert(1)</script>" not in html
    if q.strip() and q != "\x00":
        assert 'data-testid="search-empty"' in html or 'data-testid="search-products"' in html


def test_malformed_location_is_ignored(api, world):
    html = page(api, q="轮胎", lat="north", lng="nan")
    assert 'data-testid="locate-form"' in html
