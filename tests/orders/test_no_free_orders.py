"""No order that can never be paid: prices start at 1 fen, and discounts leave the same 1-fen minimum.

Every order goes through a payment (the state machine has no zero-pay path), so a price of 0 is refused
where it is set (422), an item still priced 0 from before cannot be ordered (409 `item_not_priced`), and
coupons or points that would cover a whole order leave 1 fen to pay, which pays like any other total.
"""

from sqlalchemy import update

from daodian.catalog.models import Sku
from daodian.loyalty import points as ledger
from daodian.merchants.models import ServiceItem
from tests.factories import auth
from tests.orders.helpers import key, paid_order, pickup_body, service_body


def test_a_price_of_zero_is_refused_where_it_is_set(client, db, shop):
    manager = auth(db, shop.manager)
    for url in (f"/api/v1/service-items/{shop.item.id}", f"/api/v1/skus/{shop.sku.id}"):
        response = client.patch(url, json={"price_fen": 0}, headers=manager)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
    assert client.patch(f"/api/v1/service-items/{shop.item.id}", json={"price_fen": 1}, headers=manager).status_code == 200


def test_the_openapi_schema_says_prices_start_at_one_fen(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("ServiceItemCreate", "ServiceItemUpdate", "SkuCreate", "SkuUpdate"):
        price = schemas[name]["properties"]["price_fen"]
        bounds = [price] + price.get("anyOf", [])
        assert any(b.get("minimum") == 1 for b in bounds), (name, price)


def test_an_item_still_priced_zero_cannot_be_ordered(client, db, shop, me):
    db.execute(update(ServiceItem).where(ServiceItem.id == shop.item.id).values(price_fen=0))
    db.execute(update(Sku).where(Sku.id == shop.sku.id).values(price_fen=0))
    db.flush()
    for body in (service_body(shop.item), pickup_body(shop.sku, shop.store)):
        response = client.post("/api/v1/orders", json=body, headers={**me, **key()})
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "item_not_priced"


def test_points_worth_the_whole_order_leave_one_fen_that_pays_and_issues_the_voucher(client, db, settings, shop,
                                                                                    consumer, me):
    ledger.earn(db, consumer.id, 40000, f"test:{consumer.id}:gift")
    order = paid_order(client, settings, me, {**service_body(shop.item), "points": shop.item.price_fen - 1})
    assert (order["total_fen"], order["paid_fen"], order["status"]) == (1, 1, "voucher_issued")
