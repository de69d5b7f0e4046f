"""What every page shares: localised error pages in the site shell with the real login state, money and local
times as people read them, nicknames for reviewers, the favicon and the API docs from our own assets."""

import re

from daodian.kit.html.rendering import nickname
from tests.factories import auth, make_shop, make_user
from tests.marketing.group_buy_helpers import create_deal
from tests.web.support import english, log_in


def test_a_404_is_in_chinese_inside_the_shell_with_the_visitor_logged_in(client, db):
    log_in(client, db, make_user(db, name="小周"))
    page = client.get("/no/such/page")
    assert page.status_code == 404 and 'data-testid="error-page"' in page.text
    assert 'data-testid="my-orders-link"' in page.text and 'data-testid="login-link"' not in page.text
    assert "页面不存在" in page.text and "此地址没有内容。" in page.text
    assert "There is nothing" not in page.text


def test_error_pages_speak_english_in_english_mode_and_show_a_logged_out_header_to_visitors(client):
    english(client)
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Page not found" in page.text and 'data-testid="login-link"' in page.text


def test_a_403_and_an_invalid_query_are_localised_without_validator_wording(client, db):
    shop = make_shop(db)
    log_in(client, db, make_user(db, name="路人"))
    forbidden = client.get(f"/merchant/{shop.merchant.id}")
    assert forbidden.status_code in (403, 404) and 'data-testid="my-orders-link"' in forbidden.text
    assert re.search(r"[\u4e00-\u9fff]", forbidden.text.split('data-testid="error-page"')[1])
    bad = client.get("/buy/item/1", params={"store_id": "x"})
    assert bad.status_code == 422 and "有些内容缺失或无效" in bad.text
    assert "Input should be" not in bad.text and "Invalid input" not in bad.text


def test_reviewers_appear_by_nickname_never_by_their_full_name():
    assert nickname("邱军怡") == "邱**" and nickname("Online Retail 12") == "O**" and nickname("") == "***"


def test_the_group_buy_page_shows_local_time_money_a_countdown_and_how_to_share(client, db):
    shop = make_shop(db, item_price_fen=12900)
    deal = create_deal(client, shop.merchant.id, auth(db, shop.manager), shop.item.id)
    page = client.get(f"/group-buys/{deal['id']}")
    assert page.status_code == 200 and "UTC" not in page.text
    assert 'data-testid="countdown"' in page.text and 'data-testid="progress-bar"' in page.text
    assert f'value="http://testserver/group-buys/{deal["id"]}"' in page.text
    assert '<svg' in page.text.split('data-testid="share-qr"')[1][:400]
    assert re.search(r"¥\d{1,3}(,\d{3})*\.\d\d", page.text)


def test_the_favicon_and_the_api_docs_come_from_our_own_static_files(client):
    icon = client.get("/favicon.ico", follow_redirects=False)
    assert icon.status_code == 301 and icon.headers["location"] == "/static/favicon.svg"
    assert client.get("/static/favicon.svg").headers["content-type"].startswith("image/svg")
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert '/static/vendor/swagger-ui/swagger-ui-bundle.js' in docs.text and "cdn" not in docs.text
    nonce = re.search(r"'nonce-([^']+)'", docs.headers["content-security-policy"]).group(1)
    assert f'<script nonce="{nonce}">' in docs.text
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/").text
