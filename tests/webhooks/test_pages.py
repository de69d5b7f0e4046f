"""The developer console's webhook pages, in zh-CN and English: add an endpoint (its secret shown once), the
delivery log with status, response code and latency, a redelivery, a disabled endpoint saying why, enabling
it again; nobody but the app's developer gets in."""

import re
from datetime import timedelta

from sqlalchemy import select

from daodian.kit.clock import utcnow
from daodian.kit.facts import append_fact
from daodian.webhooks.claims import DISABLED_FAILING
from daodian.webhooks.models import EndpointStatus, WebhookDelivery, WebhookEndpoint
from daodian.webhooks.runner import deliver
from tests.factories import make_user
from tests.web.support import csrf_from, english, log_in


def add_endpoint(client, scene, url: str):
    page = f"/developers/apps/{scene.app.id}/webhooks"
    form = {"csrf_token": csrf_from(client, page), "url": url, "description": "订单同步",
            "events": ["order.paid", "order.refunded"]}
    response = client.post(page, data=form)
    assert response.status_code == 200 and "whsec_" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response


def test_add_an_endpoint_see_its_log_and_send_again(client, db, session_factory, scene, receiver):
    log_in(client, db, scene.developer)
    shown = add_endpoint(client, scene, receiver.url)
    endpoint = db.scalars(select(WebhookEndpoint)).one()
    assert endpoint.secret in shown.text  # shown once, on the page after adding it
    append_fact(db, "order.paid", {"order_id": 3, "payment_id": 1, "provider": "sandbox", "amount_fen": 900,
                                   "kind": "service"}, merchant_id=scene.shop.merchant.id)
    db.commit()
    receiver.status = 502
    deliver(session_factory)
    page = client.get(f"/developers/apps/{scene.app.id}/webhooks/{endpoint.id}")
    assert page.status_code == 200
    log = page.text[page.text.index('data-testid="delivery-log"'):]
    assert "order.paid" in log and "502" in log and "毫秒" in log and "失败" in log
    assert "自" in page.text and "连续 1 次" in page.text  # failing since ..., still active

    receiver.status = 200
    delivery = db.scalars(select(WebhookDelivery)).one()
    csrf = csrf_from(client, f"/developers/apps/{scene.app.id}/webhooks/{endpoint.id}")
    sent = client.post(f"/developers/apps/{scene.app.id}/webhooks/{endpoint.id}/deliveries/{delivery.id}/redeliver",
                       data={"csrf_token": csrf}, follow_redirects=False)
    assert sent.status_code == 303
    deliver(session_factory)
    english(client)
    page = client.get(f"/developers/apps/{scene.app.id}/webhooks/{endpoint.id}").text
    assert "Delivered" in page and ">200<" in page and "Failed" in page and "Delivery log" in page


def test_a_disabled_endpoint_says_why_and_can_be_enabled(client, db, scene):
    log_in(client, db, scene.developer)
    english(client)
    add_endpoint(client, scene, "https://hooks.example.com/x")
    endpoint = db.scalars(select(WebhookEndpoint)).one()
    now = utcnow()
    endpoint.status, endpoint.disabled_at, endpoint.disabled_reason = EndpointStatus.DISABLED, now, DISABLED_FAILING
    endpoint.failing_since, endpoint.consecutive_failures = now - timedelta(days=3, hours=1), 42
    db.flush()
    path = f"/developers/apps/{scene.app.id}/webhooks/{endpoint.id}"
    page = client.get(path).text
    reason = re.sub(r"\s+", " ", page[page.index('data-testid="disabled-reason"'):][:600])
    assert "because every delivery failed since" in reason and "42 failures in a row" in reason
    client.cookies.delete("daodian_lang")
    assert "连续 42 次" in client.get(path).text
    enabled = client.post(f"{path}/status", data={"csrf_token": csrf_from(client, path), "status": "active"},
                          follow_redirects=False)
    assert enabled.status_code == 303
    db.refresh(endpoint)
    assert endpoint.status == EndpointStatus.ACTIVE and endpoint.consecutive_failures == 0


def test_bad_input_is_shown_on_the_form(client, db, scene):
    log_in(client, db, scene.developer)
    page = f"/developers/apps/{scene.app.id}/webhooks"
    response = client.post(page, data={"csrf_token": csrf_from(client, page), "url": "ftp://x.example.com/a",
                                       "events": ["order.paid"]})
    assert response.status_code == 422 and "网址须为完整的 http(s) 地址" in response.text
    assert db.scalars(select(WebhookEndpoint)).first() is None


def test_only_the_developer_gets_in(client, db, scene):
    assert client.get(f"/developers/apps/{scene.app.id}/webhooks", follow_redirects=False).status_code in (302, 303)
    for stranger in (make_user(db, name="路人"), scene.shop.owner):
        log_in(client, db, stranger)
        assert client.get(f"/developers/apps/{scene.app.id}/webhooks").status_code == 404


def test_the_developer_guide_shows_how_to_verify(client):
    guide = client.get("/developers")
    assert guide.status_code == 200 and "construct_event" in guide.text and "恒定时间" in guide.text
