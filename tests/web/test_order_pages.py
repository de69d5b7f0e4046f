"""Checkout, paying through the sandbox page, my orders, an order's page and my vouchers, as HTML pages."""

import re

import pytest
from sqlalchemy import func, select

from daodian.orders.models import Order, OrderStatus
from daodian.payments.models import Payment
from tests.factories import make_order, make_product, make_shop, make_user
from tests.orders.helpers import sandbox_notify
from tests.web.support import csrf_from, english, log_in

FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


@pytest.fixture
def shop(db):
    return make_shop(db, name="老王车行")


@pytest.fixture
def consumer(db, client):
    user = make_user(db, name="小李")
    log_in(client, db, user)
    return user


def _form(client, path: str) -> dict:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return {"csrf_token": csrf_from(client, path), "form_key": FORM_KEY.search(page.text).group(1)}


def _payment_of(db, order_id: int) -> dict:
    payment = db.scalars(select(Payment).where(Payment.order_id == order_id)).one()
    return {"out_trade_no": payment.out_trade_no, "amount_fen": payment.amount_fen, "id": payment.id}


def _only_order(db, consumer) -> Order:
    db.expire_all()
    return db.scalars(select(Order).where(Order.consumer_id == consumer.id)).one()


def test_buying_a_service_item_goes_to_the_sandbox_page_and_the_order_shows_the_voucher(client, db, settings, shop,
                                                                                        consumer):
    path = f"/buy/item/{shop.item.id}?store_id={shop.store.id}"
    page = client.get(path)
    assert "小保养" in page.text and "¥199.00" in page.text and f'value="{shop.store.id}"' in page.text
    form = _form(client, path) | {"store_id": str(shop.store.id), "quantity": "2"}
    response = client.post(f"/buy/item/{shop.item.id}", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert re.match(r"^http://testserver/sandbox/pay/\d+\?token=[0-9a-f]{32}$", response.headers["location"])
    order = _only_order(db, consumer)
    assert order.total_fen == 39800 and order.status == OrderStatus.CREATED  # the server's price, times two

    # The same form sent again (a double tap) places no second order and starts no second payment.
    again = client.post(f"/buy/item/{shop.item.id}", data=form, follow_redirects=False)
    assert again.headers["location"] == response.headers["location"]
    assert db.scalar(select(func.count()).select_from(Order).where(Order.consumer_id == consumer.id)) == 1

    waiting = client.get(f"/orders/{order.id}")
    assert 'data-status="created"' in waiting.text and 'data-testid="payment-pending"' in waiting.text
    assert 'hx-trigger="every 2s"' in waiting.text  # it refreshes itself until the notification arrives

    assert sandbox_notify(client, settings, _payment_of(db, order.id)).status_code == 200
    paid = client.get(f"/orders/{order.id}")
    assert 'data-status="voucher_issued"' in paid.text and "hx-trigger" not in paid.text
    assert paid.text.count('data-testid="voucher-qr"') == 2 and paid.text.count("<svg") == 2
    assert "可用" in paid.text and "到柜台出示此券码或二维码。" in paid.text

    vouchers = client.get("/vouchers")
    assert vouchers.status_code == 200 and vouchers.text.count('data-testid="voucher-code"') == 2
    listing = client.get("/orders")
    assert f'href="/orders/{order.id}"' in listing.text and "券码可用" in listing.text


def test_a_product_for_pickup_and_one_for_delivery(client, db, shop, consumer):
    path = f"/buy/product/{shop.product.id}"
    form = _form(client, path) | {"sku_id": str(shop.sku.id), "quantity": "1", "fulfilment": "pickup",
                                  "store_id": str(shop.store.id)}
    response = client.post(path, data=form, follow_redirects=False)
    assert response.status_code == 303 and "/sandbox/pay/" in response.headers["location"]
    order = _only_order(db, consumer)
    assert order.fulfilment == "pickup" and order.store_id == shop.store.id and order.total_fen == 29900

    form = _form(client, path) | {"sku_id": str(shop.sku.id), "quantity": "3", "fulfilment": "delivery",
                                  "name": "王先生", "phone": "13800138000", "address": "杭州市西湖区文三路1号"}
    assert client.post(path, data=form, follow_redirects=False).status_code == 303
    db.expire_all()
    delivery = db.scalars(select(Order).where(Order.consumer_id == consumer.id, Order.fulfilment == "delivery")).one()
    assert delivery.total_fen == 3 * 29900 and delivery.delivery_address["address"] == "杭州市西湖区文三路1号"


def test_checkout_forms_come_back_with_their_messages(client, db, shop, consumer):
    path = f"/buy/product/{shop.product.id}"
    form = _form(client, path) | {"sku_id": str(shop.sku.id), "quantity": "1", "fulfilment": "delivery",
                                  "name": "", "phone": "abc", "address": ""}
    page = client.post(path, data=form)
    assert page.status_code == 422 and 'data-testid="error-name"' in page.text and 'data-testid="error-phone"' in page.text
    pickup = _form(client, path) | {"sku_id": str(shop.sku.id), "quantity": "1", "fulfilment": "pickup"}
    assert 'data-testid="error-store_id"' in client.post(path, data=pickup).text
    other = make_shop(db, name="别家车行")  # a SKU of another product is not for this page
    wrong = _form(client, path) | {"sku_id": str(other.sku.id), "quantity": "1", "fulfilment": "pickup",
                                   "store_id": str(shop.store.id)}
    assert 'data-testid="error-sku_id"' in client.post(path, data=wrong).text
    shop.sku.stock = 0
    db.flush()
    english(client)
    sold_out = _form(client, path) | {"sku_id": str(shop.sku.id), "quantity": "1", "fulfilment": "pickup",
                                      "store_id": str(shop.store.id)}
    page = client.post(path, data=sold_out)
    assert page.status_code == 422 and "Sorry, not enough stock is left." in page.text
    item = _form(client, f"/buy/item/{shop.item.id}") | {"store_id": str(shop.store.id), "quantity": "500"}
    page = client.post(f"/buy/item/{shop.item.id}", data=item)
    assert page.status_code == 422 and "Pick a quantity from 1 to 99." in page.text
    assert db.scalar(select(func.count()).select_from(Order).where(Order.consumer_id == consumer.id)) == 0


def test_pages_need_a_login_and_a_csrf_token(client, db, shop):
    for path in ("/orders", "/vouchers", f"/buy/item/{shop.item.id}", f"/buy/product/{shop.product.id}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    log_in(client, db, make_user(db))
    response = client.post(f"/buy/item/{shop.item.id}", data={"store_id": str(shop.store.id), "quantity": "1"})
    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(Order)) == 0


def test_someone_elses_order_is_not_shown_but_the_merchants_staff_see_it(client, db, shop, consumer):
    order = make_order(db, consumer, shop=shop, paid=True)
    assert client.get(f"/orders/{order.id}").status_code == 200
    log_in(client, db, make_user(db, name="路人"))
    page = client.get(f"/orders/{order.id}")
    assert page.status_code == 404  # answered as if there were no such order (issue 16: no existence leak)
    assert "voucher-code" not in page.text
    log_in(client, db, shop.clerk)
    staff = client.get(f"/orders/{order.id}")
    assert staff.status_code == 200 and "write-review" not in staff.text and 'data-testid="pay"' not in staff.text
    assert client.get("/orders/99999999").status_code == 404


def test_a_product_order_shows_the_services_near_you_like_the_product_page(db, shop, client, consumer):
    # The shop exists before the app starts, so its nearby index holds the store from the start (a store
    # added later reaches the index at its next poll, within half a second).
    order = make_order(db, consumer, shop=shop, product=True, paid=True)
    page = client.get(f"/orders/{order.id}")
    assert 'data-testid="services-near"' in page.text and 'data-testid="linked-auto_service.oil_change"' in page.text
    assert 'data-testid="near-me"' in page.text
    near = client.get(f"/orders/{order.id}", params={"lat": "30.2590", "lng": "120.1490", "datum": "gcj02"})
    assert f'data-testid="nearby-store-{shop.store.id}"' in near.text
    product = client.get(f"/p/{shop.product.id}", params={"lat": "30.2590", "lng": "120.1490", "datum": "gcj02"})
    assert f'data-testid="nearby-store-{shop.store.id}"' in product.text and 'data-testid="buy-product"' in product.text
    assert client.get(f"/p/{shop.product.id}", params={"lat": "abc", "lng": "1e999"}).status_code == 200


def test_the_product_name_filter_takes_percent_and_underscore_literally(client, db, shop):
    other = make_shop(db, name="百分百车行")
    literal = make_product(db, other.merchant, name="100%_纯机油")

    def names(q: str) -> set[str]:
        response = client.get("/api/v1/products", params={"q": q, "limit": 100})
        assert response.status_code == 200, response.text
        return {p["name_zh"] for p in response.json()["items"]}

    assert names("%") == {literal.name_zh}
    assert names("_") == {literal.name_zh}
    assert names("0%_") == {literal.name_zh}
    assert names("\\") == set()
    assert shop.product.name_zh in names("机油")


def test_paying_later_from_the_order_page_reuses_the_payment_and_an_expired_order_says_so(client, db, shop, consumer):
    order = make_order(db, consumer, shop=shop)
    path = f"/orders/{order.id}"
    first = client.post(f"{path}/pay", data=_form(client, path), follow_redirects=False)
    assert first.status_code == 303 and "/sandbox/pay/" in first.headers["location"]
    second = client.post(f"{path}/pay", data=_form(client, path), follow_redirects=False)
    assert second.headers["location"] == first.headers["location"]  # the pending payment, not a new one
    assert db.scalar(select(func.count()).select_from(Payment).where(Payment.order_id == order.id)) == 1

    order.expires_at = order.created_at  # past its deadline
    db.flush()
    late = client.post(f"{path}/pay", data={"csrf_token": csrf_from(client, "/orders"), "form_key": "k-late"},
                       follow_redirects=False)
    assert late.status_code == 303 and late.headers["location"] == f"{path}?problem=order_expired"
    page = client.get(late.headers["location"])
    assert 'data-status="expired"' in page.text and "订单未在规定时间内支付，已过期。" in page.text
    assert 'data-testid="pay"' not in page.text
