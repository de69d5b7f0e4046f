"""What operators rely on: /metrics, a request id on every response and log line, liveness and readiness, and a
shutdown that lets the requests in flight finish."""

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import PlainTextResponse

from daodian.app import create_app
from daodian.kit.ops.edge import Edge
from daodian.kit.ops.logs import RequestIdFilter, logging_config
from daodian.kit.settings import PROJECT_ROOT
from tests.factories import make_shop, make_user, make_voucher, verify_voucher
from tests.support.databases import empty_database, prepare_database
from tests.support.live_server import _free_port


def _samples(client, name: str) -> list:
    text = client.get("/metrics").text
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


def _value(samples, **labels) -> float:
    return sum(s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_count_requests_by_route_template_and_status(client, db):
    shop = make_shop(db)
    before = _value(_samples(client, "daodian_responses_total"), route="/api/v1/stores/{store_id}", status="200")
    for _ in range(3):
        assert client.get(f"/api/v1/stores/{shop.store.id}").status_code == 200
    assert client.get("/api/v1/stores/999999999").status_code == 404
    after = _samples(client, "daodian_responses_total")
    assert _value(after, route="/api/v1/stores/{store_id}", status="200") == before + 3
    assert _value(after, route="/api/v1/stores/{store_id}", status="404") >= 1
    latency = _samples(client, "daodian_request_seconds_count")
    assert _value(latency, route="/api/v1/stores/{store_id}", method="GET") >= 4
    assert not [s for s in after if s.labels.get("route", "").endswith("999999999")]  # templates, not raw paths
    assert _samples(client, "daodian_db_pool_checked_out") is not None


def test_verifications_and_payments_are_counted_once_committed(client, db, settings):
    shop = make_shop(db)
    verified = _value(_samples(client, "daodian_verifications_total"))
    paid = _value(_samples(client, "daodian_payments_total"))
    voucher = make_voucher(db, settings, make_user(db), shop.item, shop.store)  # an order paid through the sandbox
    db.commit()
    verify_voucher(db, settings, voucher, shop.store, shop.clerk)
    db.commit()
    assert _value(_samples(client, "daodian_payments_total")) == paid + 1
    assert _value(_samples(client, "daodian_verifications_total")) == verified + 1


def test_every_response_carries_a_request_id_and_a_callers_own_is_kept(client):
    made = client.get("/api/v1/health").headers["x-request-id"]
    assert len(made) == 32 and made != client.get("/api/v1/health").headers["x-request-id"]
    assert client.get("/", headers={"X-Request-Id": "lb-4711-abcdef"}).headers["x-request-id"] == "lb-4711-abcdef"
    odd = client.get("/api/v1/health", headers={"X-Request-Id": "x" * 500}).headers["x-request-id"]
    assert odd != "x" * 500 and len(odd) == 32


def test_log_lines_are_json_with_the_request_id():
    """A line logged while a request runs carries its id (the middleware sets it, the filter copies it)."""
    stream = io.StringIO()
    spec = dict(logging_config()["formatters"]["json"])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(spec.pop("()")(**spec))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("daodian.test_ops")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    async def app(scope, receive, send):
        logger.warning("checked", extra={"store_id": 7})
        await PlainTextResponse("ok")(scope, receive, send)

    try:
        client = TestClient(Edge(app))  # no lifespan: the bare app speaks only HTTP
        assert client.get("/", headers={"X-Request-Id": "trace-0001-xyz"}).text == "ok"
        logger.info("outside any request")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "checked" and inside["store_id"] == 7 and inside["level"] == "WARNING"
    assert inside["request_id"] == "trace-0001-xyz" and outside["request_id"] is None
    assert inside["time"].endswith("+00:00") and inside["logger"] == "daodian.test_ops"


def test_live_and_ready(client):
    assert client.get("/api/v1/health/live").json() == {"status": "ok"}
    ready = client.get("/api/v1/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": True, "migrations": True, "nearby_index": True,
                                      "search_index": True}


def test_a_server_on_an_unmigrated_database_is_alive_but_not_ready(backend, tmp_path):
    settings = empty_database(backend, "daodian_test_not_ready", tmp_path)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/health/live").status_code == 200
        ready = client.get("/api/v1/health/ready")
        assert ready.status_code == 503
        body = ready.json()["error"]
        assert body["code"] == "not_ready" and body["details"]["migrations"] is False


def _slow_login(port: int) -> socket.socket:
    """A request whose body is still on its way: the server has started it, but cannot finish it yet."""
    body = json.dumps({"phone": "13800000009", "password": "wrong-password"}).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
    return sock, body[10:]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])  # one process (uvicorn), or forked workers (daodian.cli.prefork)
def test_sigterm_lets_the_request_in_flight_finish(backend, tmp_path, workers):
    settings = prepare_database(backend, "daodian_test_shutdown", tmp_path)
    port = _free_port()
    env = {**os.environ, "DAODIAN_DATABASE_URL": settings.database_url, "DAODIAN_ENV": "test",
           "DAODIAN_SECRET_KEY": "test-secret-not-for-production", "DAODIAN_FACTS_DIR": str(tmp_path / "facts")}
    daodian = os.path.join(os.path.dirname(sys.executable), "daodian")
    server = subprocess.Popen([daodian, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                              cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        sock, rest = _slow_login(port)
        time.sleep(0.3)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.poll() is None, "the server quit with a request in flight"
        with pytest.raises(httpx.TransportError):  # no new connections once shutting down
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health/live", timeout=1)
        sock.sendall(rest)
        answer = sock.recv(65536).decode(errors="replace")
        sock.close()
        assert answer.startswith("HTTP/1.1 401"), answer[:200]  # wrong password: answered, not cut off
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it is done
        with pytest.raises(httpx.TransportError):  # and no worker is left behind answering
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health/live", timeout=1)
    finally:
        if server.poll() is None:
            server.kill()
