"""The webhook sender's HTTP client (webhooks.http) against real sockets: kept-alive connections reused, one
the receiver closed while idle retried on a fresh one, redirects not followed, answers without a length,
timeouts, refused connections and bad URLs reported as failures, HTTPS certificates checked, long answers
cut; and the claim's paged scan (webhooks.claims):
deliveries blocked behind an earlier one of their object never starve the due ones behind them."""

import asyncio
import ssl
import subprocess
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from daodian.kit.clock import utcnow
from daodian.webhooks import claims, fanout
from daodian.webhooks.http import Pool, RequestFailed
from daodian.webhooks.models import WebhookDelivery
from tests.webhooks.test_delivery import order_fact, subscribe


class Server:
    """A raw asyncio server: each request gets `answer` (bytes); `close_after` closes the connection after
    that many answers on it, without saying so; `drop_after` reads the request after that many answers and
    closes the connection without answering it; `silent` never answers. Counts connections and requests."""

    def __init__(self, answer: bytes = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", *,
                 close_after: int | None = None, drop_after: int | None = None, silent: bool = False) -> None:
        self.answer, self.close_after, self.drop_after, self.silent = answer, close_after, drop_after, silent
        self.connections = self.requests = 0

    tls: ssl.SSLContext | None = None

    async def __aenter__(self) -> "Server":
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hooks?x=1"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                await reader.readexactly(length)
                self.requests += 1
                if self.silent:
                    await asyncio.sleep(3600)
                if self.drop_after is not None and answered >= self.drop_after:
                    break
                writer.write(self.answer)
                await writer.drain()
                answered += 1
                if self.close_after is not None and answered >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def run(coroutine):
    return asyncio.run(coroutine)


HEADERS = [("Content-Type", "application/json"), ("Daodian-Event-Id", "evt_1_1")]


def test_kept_alive_connections_are_reused():
    async def scenario():
        async with Server() as server:
            pool = Pool("test/1")
            statuses = [await pool.post(server.url, HEADERS, b"{}", 5) for _ in range(20)]
            await pool.aclose()
            return statuses, server.connections, server.requests
    statuses, connections, requests = run(scenario())
    assert statuses == [204] * 20 and requests == 20 and connections == 1


def test_a_connection_the_receiver_closed_while_idle_is_retried_on_a_fresh_one():
    async def scenario():
        async with Server(close_after=1) as server:
            pool = Pool("test/1")
            statuses = []
            for _ in range(5):
                statuses.append(await pool.post(server.url, HEADERS, b"{}", 5))
                await asyncio.sleep(0.05)  # the close lands while the connection is idle in the pool
            await pool.aclose()
            return statuses, server.connections, server.requests
    statuses, connections, requests = run(scenario())
    assert statuses == [204] * 5 and connections == 5 and requests == 5


def test_a_kept_alive_connection_closed_instead_of_answered_is_retried_once_a_fresh_one_is_not():
    async def scenario():
        async with Server(drop_after=1) as dropping, Server(drop_after=0) as unanswering:
            pool = Pool("test/1")
            # The second request goes on the kept-alive connection, which the receiver closes unanswered.
            statuses = [await pool.post(dropping.url, HEADERS, b"{}", 5) for _ in range(2)]
            with pytest.raises(RequestFailed) as failed:
                await pool.post(unanswering.url, HEADERS, b"{}", 5)
            await pool.aclose()
            return statuses, dropping.connections, dropping.requests, str(failed.value), unanswering.requests
    statuses, connections, requests, failure, unanswered = run(scenario())
    assert statuses == [204, 204] and connections == 2 and requests == 3
    assert failure.startswith("ServerDisconnectedError") and unanswered == 1


def test_a_long_answer_is_cut_and_its_connection_not_kept():
    async def scenario():
        long = b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200_000
        async with Server(long) as server:
            pool = Pool("test/1")
            statuses = [await pool.post(server.url, HEADERS, b"{}", 5) for _ in range(2)]
            await pool.aclose()
            return statuses, server.connections
    statuses, connections = run(scenario())
    assert statuses == [200, 200] and connections == 2


def test_redirects_are_answers_not_followed_and_unframed_answers_end_with_the_connection():
    async def scenario():
        redirect = b"HTTP/1.1 302 Found\r\nLocation: http://example.invalid/\r\nContent-Length: 0\r\n\r\n"
        unframed = b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\nboom"
        async with Server(redirect) as moved, Server(unframed, close_after=1) as broken:
            pool = Pool("test/1")
            got = (await pool.post(moved.url, HEADERS, b"{}", 5), await pool.post(broken.url, HEADERS, b"{}", 5))
            await pool.aclose()
            return got, moved.requests
    (moved, broken), requests = run(scenario())
    assert moved == 302 and requests == 1 and broken == 500


def test_no_answer_is_a_failure_that_says_why():
    async def scenario():
        pool = Pool("test/1")
        failures = []
        async with Server(silent=True) as silent:
            port = silent.server.sockets[0].getsockname()[1]
            started = time.monotonic()
            with pytest.raises(RequestFailed) as timed_out:
                await pool.post(silent.url, HEADERS, b"{}", 0.5)
            failures.append((str(timed_out.value), time.monotonic() - started))
        with pytest.raises(RequestFailed) as refused:  # the server is gone: its port refuses
            await pool.post(f"http://127.0.0.1:{port}/hooks", HEADERS, b"{}", 5)
        failures.append((str(refused.value), 0))
        for bad in ("ftp://example.com/x", "http://127.0.0.1:99999/x", "not a url"):
            with pytest.raises(RequestFailed) as invalid:
                await pool.post(bad, HEADERS, b"{}", 5)
            failures.append((str(invalid.value), 0))
        await pool.aclose()
        return failures
    (timeout, took), (refused, _), *invalid = run(scenario())
    assert timeout.startswith("Timeout") and 0.4 < took < 3
    assert "Refused" in refused or "Errno" in refused
    assert all(message.startswith("InvalidURL") for message, _ in invalid)


def test_the_proxy_of_the_environment_is_used_except_for_no_proxy_hosts(monkeypatch):
    async def scenario():
        async with Server() as proxy, Server() as direct:
            port = proxy.server.sockets[0].getsockname()[1]
            monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            pool = Pool("test/1")  # reads the environment when made
            via_proxy = await pool.post("http://receiver.example.invalid/hooks", HEADERS, b"{}", 5)
            bypassing = await pool.post(direct.url, HEADERS, b"{}", 5)
            await pool.aclose()
            return via_proxy, bypassing, proxy.requests, direct.requests
    assert run(scenario()) == (204, 204, 1, 1)


def test_https_checks_the_certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))

    async def scenario():
        server = Server()
        server.tls = serving
        async with server:
            untrusted, trusted = Pool("test/1"), Pool("test/1", tls=trusting)
            with pytest.raises(RequestFailed) as refused:
                await untrusted.post(server.url, HEADERS, b"{}", 5)
            statuses = [await trusted.post(server.url, HEADERS, b"{}", 5) for _ in range(3)]
            await untrusted.aclose()
            await trusted.aclose()
            return str(refused.value), statuses, server.connections
    refused, statuses, connections = run(scenario())
    assert "CERTIFICATE_VERIFY_FAILED" in refused or "certificate" in refused.lower()
    assert statuses == [204] * 3 and connections == 1  # one kept-alive connection (the refused one never got here)


def test_blocked_deliveries_beyond_a_page_do_not_starve_the_due_one_behind_them(db, session_factory, scene,
                                                                                 receiver):
    subscribe(db, scene, receiver.url)
    blocked_object, later_object = 91, 92
    for _ in range(3 * claims.PAGE * 2 + 1):  # more than three pages (limit 2) about one order
        order_fact(db, scene.shop, "order.created", blocked_object, kind="service", fulfilment="at_store", lines=[])
    order_fact(db, scene.shop, "order.created", later_object, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    fanout.fan_out(session_factory)
    now = utcnow()
    first = db.query(WebhookDelivery).order_by(WebhookDelivery.id).first()
    # The order's first delivery failed and waits for its retry: every later one about the order is blocked.
    db.execute(update(WebhookDelivery).where(WebhookDelivery.id == first.id)
               .values(attempts=1, next_attempt_at=now + timedelta(minutes=10)))
    db.flush()

    claimed = claims.claim(db, now + timedelta(seconds=1), timedelta(seconds=60), limit=2)
    assert [c.body["data"]["order_id"] for c in claimed] == [later_object]

    later = claims.claim(db, now + timedelta(minutes=11), timedelta(seconds=60), limit=5)
    assert [c.body["data"]["order_id"] for c in later] == [blocked_object, later_object]
    assert later[0].delivery_id == first.id  # its retry is due: it alone of its order, its followers wait
