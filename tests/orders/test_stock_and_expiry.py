from datetime import datetime, timedelta

from sqlalchemy import select, update

from daodian.catalog.models import Sku
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from daodian.orders import service
from daodian.orders.models import Order
from tests.factories import auth, make_user
from tests.orders.helpers import create_order, key, pickup_body, service_body


def _stock(db, sku) -> int | None:
    return db.scalar(select(Sku.stock).where(Sku.id == sku.id).execution_options(populate_existing=True))


def _age(db, order_id: int, minutes: int = 31) -> None:
    db.execute(update(Order).where(Order.id == order_id).values(expires_at=utcnow() - timedelta(minutes=minutes - 30)))
    db.flush()


def test_orders_reserve_stock_and_never_take_more_than_there_is(client, db, shop, me):
    shop.sku.stock = 3
    db.flush()
    create_order(client, me, pickup_body(shop.sku, shop.store, quantity=2))
    assert _stock(db, shop.sku) == 1
    response = client.post("/api/v1/orders", json=pickup_body(shop.sku, shop.store, quantity=2), headers={**me, **key()})
    assert response.status_code == 409 and response.json()["error"]["code"] == "out_of_stock"
    assert _stock(db, shop.sku) == 1
    create_order(client, me, pickup_body(shop.sku, shop.store, quantity=1))
    assert _stock(db, shop.sku) == 0


def test_unlimited_stock_is_left_alone(client, db, shop, me):
    assert shop.sku.stock is None
    create_order(client, me, pickup_body(shop.sku, shop.store, quantity=50))
    assert _stock(db, shop.sku) is None


def test_cancelling_gives_stock_back(client, db, shop, me):
    shop.sku.stock = 5
    db.flush()
    order = create_order(client, me, pickup_body(shop.sku, shop.store, quantity=4))
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=me)
    assert _stock(db, shop.sku) == 5


def test_staff_set_stock(client, db, shop):
    url = f"/api/v1/skus/{shop.sku.id}/stock"
    assert client.put(url, json={"stock": 7}, headers=auth(db, shop.clerk)).status_code == 403
    assert client.put(url, json={"stock": 7}, headers=auth(db, shop.owner)).json() == {"sku_id": shop.sku.id, "stock": 7}
    assert client.put(url, json={"stock": -1}, headers=auth(db, shop.owner)).status_code == 422
    assert client.put(url, json={"stock": None}, headers=auth(db, shop.owner)).json()["stock"] is None


def test_the_expiry_job_expires_due_orders_and_restores_stock(client, db, session_factory, shop, me):
    shop.sku.stock = 2
    db.flush()
    due = create_order(client, me, pickup_body(shop.sku, shop.store, quantity=2))
    fresh = create_order(client, me, service_body(shop.item))
    _age(db, due["id"])
    assert service.expire_due(session_factory) == 1
    assert service.expire_due(session_factory) == 0  # idempotent
    assert client.get(f"/api/v1/orders/{due['id']}", headers=me).json()["status"] == "expired"
    assert client.get(f"/api/v1/orders/{fresh['id']}", headers=me).json()["status"] == "created"
    assert _stock(db, shop.sku) == 2
    facts = db.scalars(select(Fact).where(Fact.kind == "order.expired")).all()
    assert [f.payload["order_id"] for f in facts] == [due["id"]]


def test_expiry_is_lazy_on_access(client, db, shop, me):
    shop.sku.stock = 1
    db.flush()
    order = create_order(client, me, pickup_body(shop.sku, shop.store))
    _age(db, order["id"])
    body = client.get(f"/api/v1/orders/{order['id']}", headers=me).json()
    assert body["status"] == "expired" and body["closed_at"] is not None
    assert _stock(db, shop.sku) == 1


def test_paying_a_due_order_expires_it_and_says_so(client, db, shop, me):
    order = create_order(client, me, service_body(shop.item))
    _age(db, order["id"])
    response = client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers={**me, **key()})
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_expired"
    assert db.scalar(select(Order.status).where(Order.id == order["id"])
                     .execution_options(populate_existing=True)) == "expired"


def test_a_sold_out_sku_reclaims_units_held_by_expired_orders(client, db, shop, me):
    shop.sku.stock = 1
    db.flush()
    order = create_order(client, me, pickup_body(shop.sku, shop.store))
    _age(db, order["id"])
    other = auth(db, make_user(db))
    create_order(client, other, pickup_body(shop.sku, shop.store))  # would be out of stock without lazy expiry
    assert _stock(db, shop.sku) == 0
    assert client.get(f"/api/v1/orders/{order['id']}", headers=me).json()["status"] == "expired"


def test_payment_deadline_follows_the_setting(client, settings, shop, me, monkeypatch):
    monkeypatch.setattr(settings, "order_payment_minutes", 5)
    order = create_order(client, me, service_body(shop.item))
    remaining = datetime.fromisoformat(order["expires_at"]) - utcnow()
    assert timedelta(minutes=4) < remaining <= timedelta(minutes=5)
