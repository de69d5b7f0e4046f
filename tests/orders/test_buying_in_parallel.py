"""Buying end to end with many shoppers at once against the live server: order, pay, the sandbox's
notification. Payments hold a database slot and then wait for the write turn per transaction; a notification
once took the turn for its whole request and then waited for a slot, and sixteen shoppers stopped the server."""

import httpx
from sqlalchemy import func, select

from daodian.kit.db import unit_of_work
from daodian.orders.models import Order, OrderStatus
from daodian.vouchers.models import Voucher
from tests.factories import auth, make_user
from tests.orders.helpers import LiveShop, in_parallel, key, new_client, sandbox_notify, service_body
from tests.payments.reconcile import assert_books_balance

SHOPPERS = 16
ORDERS_EACH = 3


def test_sixteen_shoppers_order_pay_and_get_their_vouchers_at_once(live_server):
    live = LiveShop(live_server)
    with unit_of_work(live_server.session_factory) as session:
        shoppers = [auth(session, make_user(session)) for _ in range(SHOPPERS)]

    def shop(i: int) -> httpx.Response:
        with new_client(live.url) as http:
            for _ in range(ORDERS_EACH):
                order = http.post("/api/v1/orders", json=service_body(live.shop.item), headers={**shoppers[i], **key()})
                assert order.status_code == 201, order.text
                payment = http.post(f"/api/v1/orders/{order.json()['id']}/pay", json={"provider": "sandbox"},
                                    headers={**shoppers[i], **key()})
                assert payment.status_code == 201, payment.text
                notified = sandbox_notify(http, live.settings, payment.json())
                assert notified.status_code == 200, notified.text
            return notified

    assert all(r.status_code == 200 for r in in_parallel(SHOPPERS, shop))
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        merchant = live.shop.merchant.id
        statuses = dict(session.execute(select(Order.status, func.count()).where(Order.merchant_id == merchant)
                                        .group_by(Order.status)).all())
        assert statuses == {OrderStatus.VOUCHER_ISSUED: SHOPPERS * ORDERS_EACH}
        assert session.scalar(select(func.count()).select_from(Voucher)
                              .where(Voucher.merchant_id == merchant)) == SHOPPERS * ORDERS_EACH
        books = assert_books_balance(session, {merchant})
    assert (books.paid_orders, books.vouchers) == (SHOPPERS * ORDERS_EACH, SHOPPERS * ORDERS_EACH)
