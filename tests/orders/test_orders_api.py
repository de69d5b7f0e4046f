from sqlalchemy import select

from daodian.kit.facts import Fact
from daodian.taxonomy.models import CatalogStatus
from tests.factories import auth, make_item, make_merchant, make_shop, make_store, make_user
from tests.orders.helpers import create_order, delivery_body, key, pickup_body, service_body


def test_product_order_for_pickup_is_priced_by_the_server(client, db, shop, me):
    order = create_order(client, me, pickup_body(shop.sku, shop.store, quantity=2))
    assert order["status"] == "created" and order["kind"] == "product" and order["fulfilment"] == "pickup"
    assert order["total_fen"] == 2 * 29900
    line = order["lines"][0]
    assert (line["unit_price_fen"], line["quantity"], line["amount_fen"]) == (29900, 2, 59800)
    assert line["name"].startswith("全合成机油")
    fact = db.scalars(select(Fact).where(Fact.kind == "order.created")).one()
    assert fact.payload["order_id"] == order["id"] and fact.payload["total_fen"] == 59800


def test_delivery_and_service_orders(client, shop, me):
    delivery = create_order(client, me, delivery_body(shop.sku))
    assert delivery["fulfilment"] == "delivery" and delivery["delivery_address"]["name"] == "王先生"
    service = create_order(client, me, service_body(shop.item, quantity=3, store=shop.store))
    assert service["kind"] == "service" and service["fulfilment"] == "at_store" and service["total_fen"] == 3 * 19900


def test_a_client_sent_price_is_refused(client, shop, me):
    body = pickup_body(shop.sku, shop.store)
    body["lines"][0]["unit_price_fen"] = 1
    assert client.post("/api/v1/orders", json=body, headers={**me, **key()}).status_code == 422
    body = {**pickup_body(shop.sku, shop.store), "total_fen": 1}
    response = client.post("/api/v1/orders", json=body, headers={**me, **key()})
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_lines_keep_the_price_they_were_bought_at(client, db, shop, me):
    order = create_order(client, me, service_body(shop.item))
    shop.item.price_fen = 1
    db.flush()
    again = client.get(f"/api/v1/orders/{order['id']}", headers=me).json()
    assert again["total_fen"] == 19900 and again["lines"][0]["unit_price_fen"] == 19900
    assert create_order(client, me, service_body(shop.item))["total_fen"] == 1  # new orders: the new price


def test_the_same_item_twice_is_one_line(client, shop, me):
    body = {"lines": [{"service_item_id": shop.item.id, "quantity": 1}, {"service_item_id": shop.item.id, "quantity": 2}]}
    order = create_order(client, me, body)
    assert len(order["lines"]) == 1 and order["lines"][0]["quantity"] == 3


def _error(client, headers, body) -> tuple[int, str]:
    response = client.post("/api/v1/orders", json=body, headers={**headers, **key()})
    return response.status_code, response.json()["error"]["code"]


def _invalid(client, headers, body) -> str:
    response = client.post("/api/v1/orders", json=body, headers={**headers, **key()})
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error", response.text
    return response.json()["error"]["message"]


def test_the_body_names_one_kind_of_item_and_a_fitting_fulfilment(client, shop, me):
    mixed = {"lines": [{"sku_id": shop.sku.id}, {"service_item_id": shop.item.id}], "fulfilment": "pickup",
             "store_id": shop.store.id}
    assert "separate orders" in _invalid(client, me, mixed)
    assert "need fulfilment" in _invalid(client, me, {"lines": [{"sku_id": shop.sku.id}]})
    assert "pickup needs store_id" in _invalid(client, me, {**pickup_body(shop.sku, shop.store), "store_id": None})
    assert "delivery needs" in _invalid(client, me, {**delivery_body(shop.sku), "store_id": shop.store.id})
    assert "used at a store" in _invalid(client, me, {**service_body(shop.item), "fulfilment": "delivery"})
    assert "exactly one" in _invalid(client, me, {"lines": [{"sku_id": shop.sku.id, "service_item_id": shop.item.id}]})


def test_order_rules_that_need_the_catalog(client, db, shop, me):
    other = make_shop(db, name="另一家")
    two = {"lines": [{"service_item_id": shop.item.id}, {"service_item_id": other.item.id}]}
    assert _error(client, me, two) == (422, "multiple_merchants")
    assert _error(client, me, {**delivery_body(shop.sku), "lines": [{"sku_id": 10**12}]}) == (404, "unknown_line_item")
    assert _error(client, me, pickup_body(shop.sku, other.store)) == (422, "invalid_store")
    assert _error(client, me, pickup_body(shop.sku, shop.store) | {"store_id": 10**12}) == (404, "store_not_found")
    bare_store = make_store(db, shop.merchant, name="不做保养的店")
    assert _error(client, me, service_body(shop.item, store=bare_store)) == (422, "store_does_not_offer")
    shop.item.status = CatalogStatus.HIDDEN
    db.flush()
    assert _error(client, me, service_body(shop.item)) == (409, "not_for_sale")


def test_a_merchant_that_is_not_trading_sells_nothing(client, db, me):
    owner = make_user(db)
    merchant = make_merchant(db, owner, status="pending")
    store = make_store(db, merchant)
    item = make_item(db, merchant, [store.id])
    assert _error(client, me, service_body(item)) == (409, "not_for_sale")


def test_orders_need_login_and_an_idempotency_key(client, shop, me):
    assert client.post("/api/v1/orders", json=service_body(shop.item)).status_code == 401
    response = client.post("/api/v1/orders", json=service_body(shop.item), headers=me)
    assert response.status_code == 400 and response.json()["error"]["code"] == "idempotency_key_required"


def test_consumers_see_their_own_orders_and_staff_their_merchants(client, db, shop, me):
    order = create_order(client, me, service_body(shop.item))
    stranger = auth(db, make_user(db))
    hidden = client.get(f"/api/v1/orders/{order['id']}", headers=stranger)  # someone else's: as if missing
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "order_not_found"
    assert client.get(f"/api/v1/orders/{order['id']}").status_code == 401
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth(db, shop.clerk)).status_code == 200
    mine = client.get("/api/v1/orders", headers=me).json()["items"]
    assert [o["id"] for o in mine] == [order["id"]]
    assert client.get("/api/v1/orders", headers=stranger).json()["items"] == []
    listed = client.get(f"/api/v1/merchants/{shop.merchant.id}/orders", headers=auth(db, shop.clerk)).json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]
    assert client.get(f"/api/v1/merchants/{shop.merchant.id}/orders", headers=stranger).status_code == 403
    assert client.get("/api/v1/orders/999999999", headers=me).json()["error"]["code"] == "order_not_found"
