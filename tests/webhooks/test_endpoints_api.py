"""The webhook routes: the catalogue; only an app's developer manages its endpoints (anyone else, staff of
the installing merchant included, gets the same 404 as for a missing app); bad input is a clear 422; the log
and the redelivery go through the same checks."""

from sqlalchemy import select

from daodian.kit.facts import append_fact
from daodian.webhooks.catalogue import EVENTS
from daodian.webhooks.models import WebhookDelivery
from daodian.webhooks.runner import deliver
from tests.factories import auth, make_user


def create(client, scene, headers, **body):
    return client.post(f"/api/v1/apps/{scene.app.id}/webhooks", headers=headers,
                       json={"url": "https://hooks.example.com/daodian", "events": ["order.paid"], **body})


def test_the_catalogue_is_public_with_a_schema_per_event(client):
    response = client.get("/api/v1/webhooks/events", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    names = [e["name"] for e in response.json()]
    assert names == [e.name for e in EVENTS] and "member.joined" in names
    assert all(e["schema"]["properties"]["type"]["const"] == e["name"] for e in response.json())


def test_the_developer_creates_lists_changes_and_rotates(client, db, scene):
    me = auth(db, scene.developer)
    created = create(client, scene, me, events=["order.paid", "order.refunded", "order.paid"])
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["events"] == ["order.paid", "order.refunded"]
    listed = client.get(f"/api/v1/apps/{scene.app.id}/webhooks", headers=me).json()
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    path = f"/api/v1/apps/{scene.app.id}/webhooks/{endpoint['id']}"
    changed = client.patch(path, headers=me, json={"status": "disabled", "description": "测试"})
    assert changed.json()["status"] == "disabled" and changed.json()["disabled_reason"] == "by_developer"
    assert client.patch(path, headers=me, json={"status": "active"}).json()["disabled_reason"] is None
    rotated = client.post(f"{path}/rotate-secret", headers=me).json()
    assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_expires_at"]


def test_bad_input_is_a_clear_422(client, db, scene):
    me = auth(db, scene.developer)
    unknown = create(client, scene, me, events=["order.paid", "order.teleported"])
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_event"
    assert unknown.json()["error"]["details"] == {"unknown": ["order.teleported"]}
    for url in ("ftp://example.com/x", "https://user:pw@example.com/x", "not a url at all"):
        bad = create(client, scene, me, url=url)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_endpoint_url", url
    assert create(client, scene, me, events=[]).status_code == 422


def test_nobody_else_sees_or_touches_an_apps_endpoints(client, db, scene):
    endpoint = create(client, scene, auth(db, scene.developer)).json()
    base = f"/api/v1/apps/{scene.app.id}/webhooks"
    for stranger in (make_user(db, name="别人"), scene.shop.owner):  # the installing merchant's owner too
        headers = auth(db, stranger)
        for method, path in (("GET", base), ("POST", base), ("GET", f"{base}/{endpoint['id']}"),
                             ("PATCH", f"{base}/{endpoint['id']}"), ("GET", f"{base}/{endpoint['id']}/attempts"),
                             ("POST", f"{base}/{endpoint['id']}/rotate-secret")):
            body = {"url": "https://evil.example.com", "events": ["order.paid"]} if method == "POST" else {}
            response = client.request(method, path, headers=headers, json=body if method != "GET" else None)
            assert response.status_code == 404 and response.json()["error"]["code"] == "app_not_found", (method, path)
    assert client.get(base).status_code == 401
    other_app_path = f"{base}/{endpoint['id'] + 1000}"
    assert client.get(other_app_path, headers=auth(db, scene.developer)).json()["error"]["code"] == \
        "webhook_endpoint_not_found"


def test_the_log_and_a_redelivery(client, db, session_factory, scene, receiver):
    me = auth(db, scene.developer)
    endpoint = create(client, scene, me, url=receiver.url).json()
    append_fact(db, "order.paid", {"order_id": 7, "payment_id": 1, "provider": "sandbox", "amount_fen": 500,
                                   "kind": "service"}, merchant_id=scene.shop.merchant.id)
    db.commit()
    deliver(session_factory)
    path = f"/api/v1/apps/{scene.app.id}/webhooks/{endpoint['id']}"
    (attempt,) = client.get(f"{path}/attempts", headers=me).json()["items"]
    assert attempt["succeeded"] and attempt["status_code"] == 200 and attempt["latency_ms"] >= 0
    (delivery,) = client.get(f"{path}/deliveries", headers=me).json()["items"]
    assert delivery["status"] == "succeeded" and delivery["event_type"] == "order.paid"
    again = client.post(f"{path}/deliveries/{delivery['id']}/redeliver", headers=me)
    assert again.status_code == 202 and again.json()["status"] == "pending"
    deliver(session_factory)
    assert [r.headers["Daodian-Event-Id"] for r in receiver.received] == [delivery["event_id"]] * 2
    assert len(client.get(f"{path}/attempts", headers=me).json()["items"]) == 2
    missing = client.post(f"{path}/deliveries/{delivery['id'] + 999}/redeliver", headers=me)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "webhook_delivery_not_found"
    stranger = client.post(f"{path}/deliveries/{delivery['id']}/redeliver", headers=auth(db, make_user(db)))
    assert stranger.status_code == 404
    assert db.scalars(select(WebhookDelivery)).one().attempts == 1
