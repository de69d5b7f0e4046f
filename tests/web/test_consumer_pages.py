"""Consumer pages render in zh-CN (default) and English, with the right data and 4xx pages for bad addresses."""

import re

import pytest

from daodian.merchants.models import MerchantStatus
from daodian.taxonomy.models import CatalogStatus
from tests.factories import make_item, make_merchant, make_product, make_store, make_user
from tests.web.support import csrf_from, day_cell, english


@pytest.fixture
def shop(db):
    owner = make_user(db)
    merchant = make_merchant(db, owner, name="老王汽修")
    store = make_store(db, merchant, name="老王汽修西湖店")
    store.name_en = "Lao Wang Auto West Lake"
    item = make_item(db, merchant, [store.id], price_fen=19900)
    product = make_product(db, merchant, price_fen=29900)
    db.flush()
    return {"owner": owner, "merchant": merchant, "store": store, "item": item, "product": product}


def test_home_shows_category_grids_in_chinese_then_english(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text
    for text in ("到店", "本地服务", "汽车服务", "保养换油", "商品分类", "机油", "搜索商品和服务", 'href="/sc/auto_service"'):
        assert text in page.text
    english(client)
    page = client.get("/")
    assert '<html lang="en">' in page.text
    for text in ("Local services", "Auto services", "Oil change", "Shop by category", "Motor oil"):
        assert text in page.text
    assert "本地服务" not in page.text


def test_language_route_sets_the_cookie_and_goes_back(client):
    response = client.post("/lang", data={"csrf_token": csrf_from(client, "/"), "lang": "en", "next": "/c/auto?x=1"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/c/auto?x=1"
    assert "daodian_lang=en" in response.headers["set-cookie"]
    assert "Car supplies" in client.get("/c/auto").text
    back = client.post("/lang", data={"csrf_token": csrf_from(client, "/"), "lang": "zh_CN", "next": "/c/auto"})
    assert "汽车用品" in back.text


def test_language_route_goes_back_to_the_referring_page_when_not_told(client):
    response = client.post("/lang", data={"csrf_token": csrf_from(client, "/"), "lang": "en"},
                           headers={"Referer": "http://testserver/merchant/stores/1"}, follow_redirects=False)
    assert response.headers["location"] == "/merchant/stores/1"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example", "/\t/evil.example"])
def test_language_route_never_redirects_off_site(client, target):
    response = client.post("/lang", data={"csrf_token": csrf_from(client, "/"), "lang": "en", "next": target},
                           follow_redirects=False)
    assert response.headers["location"] == "/"


def test_product_category_page_lists_products_with_yuan_prices(client, shop):
    page = client.get("/c/auto")
    assert page.status_code == 200
    assert "全合成机油 5W-30" in page.text and "¥299.00 起" in page.text and 'href="/c/auto.oil"' in page.text
    english(client)
    page = client.get("/c/auto.oil")
    assert "Motor oil" in page.text and "Synthetic motor oil" in page.text and "from ¥299.00" in page.text


def test_product_page(client, shop):
    product = shop["product"]
    page = client.get(f"/p/{product.id}")
    assert page.status_code == 200
    assert "全合成机油 5W-30" in page.text and "¥299.00" in page.text and "老王汽修" in page.text and "机油" in page.text
    english(client)
    page = client.get(f"/p/{product.id}")
    assert "Synthetic motor oil" in page.text and "Sold by 老王汽修" in page.text and "Options" in page.text


def test_hidden_product_is_not_found_for_consumers(client, db, shop):
    shop["product"].status = CatalogStatus.HIDDEN
    db.flush()
    page = client.get(f"/p/{shop['product'].id}")
    assert page.status_code == 404 and "页面不存在" in page.text


def test_service_category_page_lists_listed_stores_only(client, db, shop):
    hidden = make_store(db, make_merchant(db, make_user(db), name="待审商户", status=MerchantStatus.PENDING),
                        name="待审门店")
    page = client.get("/sc/auto_service")
    assert page.status_code == 200
    assert "老王汽修西湖店" in page.text and f'href="/s/{shop["store"].id}"' in page.text
    assert "待审门店" not in page.text and f"/s/{hidden.id}" not in page.text
    english(client)
    page = client.get("/sc/auto_service.oil_change")
    assert "Oil change" in page.text and "Lao Wang Auto West Lake" in page.text
    assert "No stores offer this yet." in client.get("/sc/leisure.ktv").text


def test_store_page_shows_hours_items_and_a_navigation_link(client, shop):
    store = shop["store"]
    page = client.get(f"/s/{store.id}")
    assert page.status_code == 200
    assert "老王汽修西湖店" in page.text and "杭州市西湖区南山路1号" in page.text
    assert day_cell(page.text, 1) == "周一 09:00–21:00"
    assert "营业时间" in page.text and "小保养" in page.text and "¥199.00" in page.text and "60 分钟" in page.text
    link = re.search(r'href="https://uri\.amap\.com/marker\?position=([\d.]+),([\d.]+)&amp;name=([^"]+)"', page.text)
    assert link, "no AMap navigation link"
    lng, lat = float(link.group(1)), float(link.group(2))
    assert abs(lng - 120.149) < 1e-5 and abs(lat - 30.259) < 1e-5  # GCJ-02, as the merchant entered it
    assert link.group(3) == "%E8%80%81%E7%8E%8B%E6%B1%BD%E4%BF%AE%E8%A5%BF%E6%B9%96%E5%BA%97"
    english(client)
    page = client.get(f"/s/{store.id}")
    assert "Lao Wang Auto West Lake" in page.text and "Opening hours" in page.text
    assert day_cell(page.text, 7) == "Sunday 09:00–21:00"
    assert "Basic service" in page.text and "60 min" in page.text and "Navigate" in page.text


def test_store_of_a_pending_merchant_is_not_found(client, db):
    store = make_store(db, make_merchant(db, make_user(db), status=MerchantStatus.PENDING))
    assert client.get(f"/s/{store.id}").status_code == 404


def test_search_page_renders_in_both_languages(client, shop):
    # The search module may own /search; this only holds the page to the shared layout and language.
    page = client.get("/search", params={"q": "机油"})
    assert page.status_code == 200 and 'value="机油"' in page.text and "搜索商品和服务" in page.text
    english(client)
    assert "Search products and services" in client.get("/search", params={"q": "oil"}).text


def test_search_escapes_what_was_typed(client):
    page = client.get("/search", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


@pytest.mark.parametrize("path, status", [
    ("/p/999999", 404), ("/s/999999", 404), ("/c/no.such", 404), ("/sc/no.such", 404),
    ("/p/abc", 422), ("/s/99999999999999999999", 422), ("/s/0", 422), ("/c/" + "x" * 65, 422),
])
def test_bad_addresses_give_html_error_pages(client, path, status):
    page = client.get(path)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html") and 'data-testid="error-page"' in page.text
    assert "返回首页" in page.text
