import pytest

from daodian.orders import states
from daodian.orders.models import OrderStatus as S
from tests.factories import auth
from tests.orders.helpers import create_order, key, paid_order, pickup_body, service_body

ALLOWED = {
    (S.CREATED, S.PAID), (S.CREATED, S.CANCELLED), (S.CREATED, S.EXPIRED),
    (S.PAID, S.FULFILLED), (S.PAID, S.VOUCHER_ISSUED), (S.PAID, S.REFUNDED),
    (S.FULFILLED, S.COMPLETED), (S.FULFILLED, S.REFUNDED),
    (S.VOUCHER_ISSUED, S.COMPLETED), (S.VOUCHER_ISSUED, S.REFUNDED),
    (S.COMPLETED, S.REFUNDED), (S.COMPLETED, S.VOUCHER_ISSUED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_the_transition_table(current, target):
    assert states.can(current, target) == ((current, target) in ALLOWED)


def test_closed_orders_never_move_again():
    for closed in (S.CANCELLED, S.EXPIRED, S.REFUNDED):
        assert not states.TRANSITIONS[closed]


def test_product_order_lifecycle(client, db, settings, shop, me):
    order = paid_order(client, settings, me, pickup_body(shop.sku, shop.store))
    assert order["status"] == "paid" and order["paid_fen"] == order["total_fen"]
    clerk = auth(db, shop.clerk)
    assert client.post(f"/api/v1/orders/{order['id']}/confirm", headers=me).json()["error"]["code"] == \
        "invalid_transition"  # not handed over yet
    assert client.post(f"/api/v1/orders/{order['id']}/fulfil", headers=me).status_code == 403
    assert client.post(f"/api/v1/orders/{order['id']}/fulfil", headers=clerk).json()["status"] == "fulfilled"
    again = client.post(f"/api/v1/orders/{order['id']}/fulfil", headers=clerk)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    done = client.post(f"/api/v1/orders/{order['id']}/confirm", headers=me).json()
    assert done["status"] == "completed" and done["closed_at"] is not None


def test_service_orders_issue_vouchers_when_paid_and_are_not_fulfilled_by_hand(client, db, settings, shop, me):
    order = paid_order(client, settings, me, service_body(shop.item))
    assert order["status"] == "voucher_issued"
    response = client.post(f"/api/v1/orders/{order['id']}/fulfil", headers=auth(db, shop.clerk))
    assert response.status_code == 409


def test_cancel_only_before_payment(client, db, settings, shop, me):
    order = create_order(client, me, service_body(shop.item))
    stranger_cancel = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth(db, shop.clerk))
    assert stranger_cancel.status_code == 403  # clerks do not cancel; managers may
    cancelled = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=me).json()
    assert cancelled["status"] == "cancelled"
    assert client.post(f"/api/v1/orders/{order['id']}/cancel", headers=me).status_code == 409
    pay = client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers={**me, **key()})
    assert pay.status_code == 409 and pay.json()["error"]["code"] == "order_not_payable"

    paid = paid_order(client, settings, me, service_body(shop.item))
    refused = client.post(f"/api/v1/orders/{paid['id']}/cancel", headers=auth(db, shop.manager))
    assert refused.status_code == 409 and refused.json()["error"]["details"]["status"] == "voucher_issued"


def test_managers_may_cancel_unpaid_orders(client, db, shop, me):
    order = create_order(client, me, service_body(shop.item))
    response = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth(db, shop.manager))
    assert response.json()["status"] == "cancelled"
