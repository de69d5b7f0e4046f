"""The merchant console's landing figures (经营概况), the counter's day of verifications with a manager's undo,
what "used" tells the consumer, the audience check with the form's defaults, and the operator's console."""

import re

import pytest

from daodian.accounts.dependencies import SESSION_COOKIE
from tests.factories import PASSWORD, make_order, make_shop, make_user, make_voucher, verify_voucher
from tests.web.support import csrf_from, log_in


@pytest.fixture
def shop(db):
    return make_shop(db, item_price_fen=19900, name="驰安测试店")


def _figure(html: str, key: str) -> tuple[int, int]:
    found = re.search(rf'data-testid="figure-{key}" data-today="(\d+)" data-last-week="(\d+)"', html)
    assert found, key
    return int(found.group(1)), int(found.group(2))


def test_the_landing_figures_are_live_from_the_database(client, db, settings, shop):
    consumer = make_user(db, name="小陈")
    log_in(client, db, shop.manager)
    before = client.get(f"/merchant/{shop.merchant.id}/overview/panel").text
    assert _figure(before, "orders") == (0, 0) and _figure(before, "verifications") == (0, 0)
    voucher = make_voucher(db, settings, consumer, shop.item, shop.store)
    verify_voucher(db, settings, voucher, shop.store, shop.clerk)
    make_order(db, consumer, shop=shop)
    after = client.get(f"/merchant/{shop.merchant.id}/overview").text
    assert _figure(after, "orders")[0] == 2 and _figure(after, "verifications")[0] == 1
    assert _figure(after, "revenue")[0] == 19900 and "¥199.00" in after
    assert "经营概况" in after and "今日经营" in after
    landing = client.get(f"/merchant/{shop.merchant.id}").text
    assert f'hx-get="/merchant/{shop.merchant.id}/overview/panel"' in landing


def test_another_merchants_figures_are_not_shown(client, db, shop):
    log_in(client, db, make_shop(db, name="别家").manager)
    assert client.get(f"/merchant/{shop.merchant.id}/overview/panel").status_code in (403, 404)


def test_the_counter_lists_the_day_and_a_manager_undoes_a_verification(client, db, settings, shop):
    consumer = make_user(db, name="小杨")
    verification = verify_voucher(db, settings, make_voucher(db, settings, consumer, shop.item, shop.store),
                                  shop.store, shop.clerk)
    path = f"/merchant/counter/{shop.store.id}/verify"
    log_in(client, db, shop.clerk)
    clerk_view = client.get(path).text
    assert f'data-testid="day-verification-{verification.id}"' in clerk_view
    assert f'data-testid="day-reverse-{verification.id}"' not in clerk_view  # clerks verify, managers undo

    log_in(client, db, shop.manager)
    manager_view = client.get(path).text
    assert f'data-testid="day-reverse-{verification.id}"' in manager_view
    undone = client.post(f"/merchant/verifications/{verification.id}/reverse",
                         data={"csrf_token": csrf_from(client, path), "store_id": str(shop.store.id)},
                         headers={"HX-Request": "true"})
    assert undone.status_code == 200 and undone.headers["HX-Trigger"] == "counter-changed"
    day = client.get(f"/merchant/counter/{shop.store.id}/verifications").text
    assert f'data-testid="day-verification-{verification.id}"' in day and 'data-reversed="true"' in day


def test_a_used_voucher_says_when_and_where(client, db, settings, shop):
    consumer = make_user(db, name="小吴")
    voucher = make_voucher(db, settings, consumer, shop.item, shop.store)
    verify_voucher(db, settings, voucher, shop.store, shop.clerk)
    log_in(client, db, consumer)
    page = client.get(f"/orders/{voucher.order_id}").text
    assert 'data-testid="voucher-use"' in page and f"于 {shop.store.name} 使用" in page
    assert 'data-testid="voucher-use"' in client.get("/vouchers").text


def test_checking_the_audience_with_the_forms_defaults_works(client, db, shop):
    log_in(client, db, shop.manager)
    page = client.get(f"/merchant/{shop.merchant.id}/marketing",
                      params={"segment": "all", "inactive_days": "", "template_id": ""})
    assert page.status_code == 200 and 'data-testid="audience-size"' in page.text


def test_operators_land_on_their_console_with_its_menu(client, db):
    operator = make_user(db, name="运营", operator=True)
    form = {"csrf_token": csrf_from(client, "/login"), "phone": operator.phone, "password": PASSWORD}
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    assert client.cookies.get(SESSION_COOKIE)
    admin = client.get("/admin").text
    for item in ("nav-admin", "nav-all-merchants", "nav-categories", "nav-links", "nav-promotions",
                 "nav-platform-analytics"):
        assert f'data-testid="{item}"' in admin
    categories = client.get("/admin/categories").text
    assert 'data-testid="category-auto.oil"' in categories and "<code>auto.oil</code>" in categories
    assert 'data-testid="service-categories"' in categories
    shop = make_shop(db)
    merchants = client.get("/admin/merchants").text
    assert f'data-testid="merchant-row-{shop.merchant.id}"' in merchants
    assert client.get("/admin/promotions").status_code == 200


def test_the_operator_pages_are_for_operators_only(client, db, shop):
    log_in(client, db, shop.owner)
    for path in ("/admin/merchants", "/admin/categories", "/admin/promotions"):
        assert client.get(path).status_code == 403, path
