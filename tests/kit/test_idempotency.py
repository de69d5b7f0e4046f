"""Idempotency keys, Stripe's semantics, on the three money-moving POSTs."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import alipay
import httpx
from sqlalchemy import func, select, update

from daodian.kit.api import idempotency
from daodian.kit.api.idempotency import IdempotencyKey
from daodian.kit.clock import utcnow
from daodian.orders.models import Order
from daodian.orders.schemas import OrderCreate
from tests.factories import auth, make_shop, make_user
from tests.orders.helpers import LiveShop, key, paid_order, pickup_body, service_body
from tests.payments.providers import alipay_notification, alipay_refund_answer, configure_alipay


def _orders(db) -> int:
    return db.scalar(select(func.count()).select_from(Order))


def test_same_key_and_body_returns_the_stored_response(client, db):
    shop, consumer = make_shop(db), make_user(db)
    me, idem = auth(db, consumer), key()
    first = client.post("/api/v1/orders", json=service_body(shop.item), headers={**me, **idem})
    again = client.post("/api/v1/orders", json=service_body(shop.item), headers={**me, **idem})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _orders(db) == 1


def test_same_key_with_another_body_is_rejected(client, db):
    shop, me, idem = make_shop(db), auth(db, make_user(db)), key()
    client.post("/api/v1/orders", json=service_body(shop.item), headers={**me, **idem})
    other = client.post("/api/v1/orders", json=service_body(shop.item, quantity=2), headers={**me, **idem})
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    elsewhere = client.post(f"/api/v1/orders/{10**9}/pay", json={"provider": "sandbox"}, headers={**me, **idem})
    assert elsewhere.status_code == 422  # a key names one operation, on one path
    assert _orders(db) == 1


def test_keys_belong_to_the_caller(client, db):
    shop, idem = make_shop(db), key()
    for user in (make_user(db), make_user(db)):
        response = client.post("/api/v1/orders", json=service_body(shop.item), headers={**auth(db, user), **idem})
        assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert _orders(db) == 2


def test_the_key_is_required_and_bounded(client, db):
    shop, me = make_shop(db), auth(db, make_user(db))
    for path, body in (("/api/v1/orders", service_body(shop.item)),
                       ("/api/v1/orders/1/pay", {"provider": "sandbox"}), ("/api/v1/orders/1/refunds", {})):
        response = client.post(path, json=body, headers=me)
        assert response.status_code == 400 and response.json()["error"]["code"] == "idempotency_key_required"
    long_key = client.post("/api/v1/orders", json=service_body(shop.item), headers={**me, "Idempotency-Key": "k" * 256})
    assert long_key.status_code == 422


def test_a_settled_error_is_stored_and_a_passing_one_is_not(client, db, settings):
    shop, me = make_shop(db), auth(db, make_user(db))
    order = paid_order(client, settings, me, pickup_body(shop.sku, shop.store))
    idem = key()
    too_much = {"amount_fen": 10**6}
    first = client.post(f"/api/v1/orders/{order['id']}/refunds", json=too_much, headers={**me, **idem})
    again = client.post(f"/api/v1/orders/{order['id']}/refunds", json=too_much, headers={**me, **idem})
    assert first.status_code == again.status_code == 422 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()

    shop.sku.stock = 0
    db.flush()
    idem = key()
    sold_out = client.post("/api/v1/orders", json=pickup_body(shop.sku, shop.store), headers={**me, **idem})
    assert sold_out.status_code == 409  # a state that may change: the key is released
    shop.sku.stock = 1
    db.flush()
    restocked = client.post("/api/v1/orders", json=pickup_body(shop.sku, shop.store), headers={**me, **idem})
    assert restocked.status_code == 201


def test_a_key_in_flight_gets_409_and_a_dead_claim_is_taken_over(client, db, settings):
    shop, consumer = make_shop(db), make_user(db)
    me, idem = auth(db, consumer), key()
    body = service_body(shop.item)
    db.add(IdempotencyKey(scope=f"user:{consumer.id}", key=idem["Idempotency-Key"], method="POST",
                          path="/api/v1/orders", fingerprint=idempotency.fingerprint(
                              "POST", "/api/v1/orders", OrderCreate.model_validate(body).model_dump(mode="json")),
                          lease="someone-else", locked_at=utcnow(), created_at=utcnow()))
    db.flush()
    busy = client.post("/api/v1/orders", json=body, headers={**me, **idem})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "idempotency_in_progress"
    db.execute(update(IdempotencyKey).values(locked_at=utcnow() - timedelta(seconds=settings.idempotency_lease_seconds + 1)))
    db.flush()
    assert client.post("/api/v1/orders", json=body, headers={**me, **idem}).status_code == 201


def test_keys_are_kept_24_hours_then_purged(client, db, settings, session_factory):
    shop, me = make_shop(db), auth(db, make_user(db))
    idem = key()
    first = client.post("/api/v1/orders", json=service_body(shop.item), headers={**me, **idem}).json()
    db.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=23, minutes=59)))
    db.flush()
    kept = client.post("/api/v1/orders", json=service_body(shop.item), headers={**me, **idem})
    assert kept.json()["id"] == first["id"] and kept.headers["Idempotent-Replayed"] == "true"
    assert idempotency.purge(db, settings) == 0

    db.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, minutes=1)))
    db.flush()
    assert idempotency.purge(db, settings) == 1
    fresh = client.post("/api/v1/orders", json=service_body(shop.item), headers={**me, **idem})
    assert fresh.status_code == 201 and fresh.json()["id"] != first["id"]


def test_an_old_key_seen_again_is_free_even_before_the_purge(client, db):
    shop, me, idem = make_shop(db), auth(db, make_user(db)), key()
    client.post("/api/v1/orders", json=service_body(shop.item), headers={**me, **idem})
    db.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    db.flush()
    other_body = client.post("/api/v1/orders", json=service_body(shop.item, quantity=2), headers={**me, **idem})
    assert other_body.status_code == 201  # past retention the key is forgotten, not "reused"


# --- with a real parallel client on the live server --------------------------------------------


def test_a_request_racing_one_in_flight_gets_409(live_server, monkeypatch, tmp_path):
    """The first refund waits on Alipay (its HTTP call held open); the same key meanwhile gets 409 (on SQLite
    too: an idempotent route holds the write turn only during its transactions, not across the call)."""
    configure_alipay(monkeypatch, live_server.settings, tmp_path)
    live = LiveShop(live_server)
    entered, release = threading.Event(), threading.Event()

    def slow_gateway(url, timeout):
        entered.set()
        release.wait(timeout=20)
        return alipay_refund_answer(url)

    monkeypatch.setattr(alipay, "urlopen", slow_gateway)
    with live.client() as http:
        me = live.consumer_auth
        order = http.post("/api/v1/orders", json=pickup_body(live.shop.sku, live.shop.store),
                          headers={**me, **key()}).json()
        payment = http.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "alipay"},
                            headers={**me, **key()}).json()
        assert http.post("/api/v1/payments/notify/alipay",
                         data=alipay_notification(payment["out_trade_no"], "299.00")).text == "success"
        url, idem, body = f"/api/v1/orders/{order['id']}/refunds", key(), {"amount_fen": 100}
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(lambda: httpx.post(live.url + url, json=body, headers={**me, **idem}, timeout=30))
            assert entered.wait(timeout=10)
            racing = http.post(url, json=body, headers={**me, **idem})
            reused = http.post(url, json={"amount_fen": 200}, headers={**me, **idem})
            release.set()
            done = first.result(timeout=30)
        assert racing.status_code == 409 and racing.json()["error"]["code"] == "idempotency_in_progress"
        assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
        assert done.status_code == 201 and done.json()["status"] == "succeeded"
        replay = http.post(url, json=body, headers={**me, **idem})
        assert replay.json() == done.json() and replay.headers["Idempotent-Replayed"] == "true"
        assert [r["amount_fen"] for r in http.get(url, headers=me).json()] == [100]


def test_a_request_refused_in_its_unit_leaves_no_key_behind(client, db):
    """`run_unit` writes a key's row only with its response: a refusal that is not kept (409 here) and a replay
    leave nothing, and a kept one (422) is stored once."""
    shop, consumer = make_shop(db), make_user(db)
    me = auth(db, consumer)

    def keys() -> int:
        return db.scalar(select(func.count()).select_from(IdempotencyKey).where(
            IdempotencyKey.scope == f"user:{consumer.id}"))

    shop.sku.stock = 0
    db.flush()
    assert client.post("/api/v1/orders", json=pickup_body(shop.sku, shop.store), headers={**me, **key()}).status_code == 409
    assert keys() == 0
    misfit, idem = service_body(shop.item, store=make_shop(db).store), key()  # another merchant's store
    first = client.post("/api/v1/orders", json=misfit, headers={**me, **idem})
    assert first.status_code == 422 and first.json()["error"]["code"] == "invalid_store", first.text
    assert client.post("/api/v1/orders", json=misfit, headers={**me, **idem}).headers["Idempotent-Replayed"] == "true"
    assert keys() == 1
