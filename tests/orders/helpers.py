"""Helpers shared by the orders and payments tests: request bodies, paying through the sandbox, and
running real parallel clients against the live server."""

import ssl
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from daodian.kit.db import unit_of_work
from daodian.payments.providers.sandbox import SandboxProvider
from tests.factories import auth, make_shop, make_user

# Making an httpx client loads the CA bundle unless given a context (~75 ms of CPU that the live server, in
# this same process, would miss): every client of the parallel tests shares this one.
SSL_CONTEXT = ssl.create_default_context()


def new_client(base_url: str, timeout: float = 60) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=timeout, verify=SSL_CONTEXT)


# One thread-safe client for absolute URLs: each request in flight gets a connection of its own.
_SHARED = httpx.Client(timeout=60, verify=SSL_CONTEXT, limits=httpx.Limits(max_connections=None,
                                                                           max_keepalive_connections=200))


def post(url: str, **kwargs) -> httpx.Response:
    return _SHARED.post(url, **kwargs)


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def service_body(item, quantity: int = 1, store=None) -> dict:
    body = {"lines": [{"service_item_id": item.id, "quantity": quantity}]}
    if store is not None:
        body["store_id"] = store.id
    return body


def pickup_body(sku, store, quantity: int = 1) -> dict:
    return {"lines": [{"sku_id": sku.id, "quantity": quantity}], "fulfilment": "pickup", "store_id": store.id}


def delivery_body(sku, quantity: int = 1) -> dict:
    return {"lines": [{"sku_id": sku.id, "quantity": quantity}], "fulfilment": "delivery",
            "delivery_address": {"name": "王先生", "phone": "13800138000", "address": "杭州市西湖区文三路1号"}}


def create_order(client, headers: dict, body: dict) -> dict:
    response = client.post("/api/v1/orders", json=body, headers={**headers, **key()})
    assert response.status_code == 201, response.text
    return response.json()


def start_sandbox(client, headers: dict, order_id: int) -> dict:
    response = client.post(f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers={**headers, **key()})
    assert response.status_code == 201, response.text
    return response.json()


def sandbox_notify(client, settings, payment: dict, *, succeeded: bool = True,
                   amount_fen: int | None = None) -> httpx.Response:
    """What the sandbox would deliver, signed with its key, posted straight to the notify URL."""
    body, headers = SandboxProvider(settings.sandbox_key).notification(
        out_trade_no=payment["out_trade_no"], amount_fen=payment["amount_fen"] if amount_fen is None else amount_fen,
        succeeded=succeeded)
    return client.post("/api/v1/payments/notify/sandbox", content=body, headers=headers)


def paid_order(client, settings, headers: dict, body: dict) -> dict:
    """Create an order and pay it through the sandbox; returns the order as it is after payment."""
    order = create_order(client, headers, body)
    payment = start_sandbox(client, headers, order["id"])
    assert sandbox_notify(client, settings, payment).status_code == 200
    return client.get(f"/api/v1/orders/{order['id']}", headers=headers).json()


def my_vouchers(client, headers: dict) -> list[dict]:
    return client.get("/api/v1/vouchers", params={"limit": 100}, headers=headers).json()["items"]


# --- the live server ----------------------------------------------------------------------------


class LiveShop:
    """A shop, a consumer and their tokens, committed to the live server's database."""

    def __init__(self, live_server, **shop_options):
        with unit_of_work(live_server.session_factory) as session:
            self.shop = make_shop(session, **shop_options)
            self.consumer = make_user(session, name="顾客")
            self.consumer_auth = auth(session, self.consumer)
            self.clerk_auth = auth(session, self.shop.clerk)
            self.manager_auth = auth(session, self.shop.manager)
        self.url = live_server.url
        self.settings = live_server.settings

    def client(self) -> httpx.Client:
        return new_client(self.url, timeout=30)


def in_parallel(count: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`count` clients released together by a barrier, each on its own connection and thread."""
    barrier = threading.Barrier(count)

    def one(i: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def statuses(responses: list[httpx.Response]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in responses:
        counts[r.status_code] = counts.get(r.status_code, 0) + 1
    return counts
