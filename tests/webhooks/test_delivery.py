"""Deliveries from real flows (orders, payments, records) to a real HTTP receiver: only the installing
merchant's events, signed so the SDK's verifier accepts them, shaped as the catalogue's schemas say;
retries on a backoff, order kept per object, giving up, disabling a failing endpoint, redelivery."""

import asyncio
from datetime import timedelta

import jsonschema_rs
from daodian_sdk import construct_event
from sqlalchemy import select

from daodian.kit.clock import utcnow
from daodian.kit.facts import append_fact
from daodian.webhooks import claims, fanout, service
from daodian.webhooks.backoff import Backoff
from daodian.webhooks.catalogue import BY_NAME, envelope_schema
from daodian.webhooks.claims import DISABLED_FAILING
from daodian.webhooks.models import DeliveryStatus, EndpointStatus, WebhookAttempt, WebhookDelivery
from daodian.webhooks.runner import Runner, deliver
from daodian.webhooks.schemas import EndpointIn
from tests.factories import make_order, make_record, make_user, principal_of
from tests.webhooks.conftest import install

ORDER_EVENTS = ["order.created", "order.paid", "voucher.issued", "consumption.recorded", "order.cancelled"]


class Clock:
    """The runner's clock, moved by the test: days of backoff pass in no time."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def ticks(factory, count: int, clock: Clock, step: timedelta, **options) -> None:
    """`count` passes of one runner, the clock moving `step` after each (one HTTP client for all of them)."""
    async def run() -> None:
        async with Runner(factory, clock=clock, **options) as runner:
            for _ in range(count):
                await runner.tick()
                clock.now += step
    asyncio.run(run())


def subscribe(db, scene, url: str, events=ORDER_EVENTS):
    return service.create_endpoint(db, principal_of(db, scene.developer), scene.app,
                                   EndpointIn(url=url, events=events))


def order_fact(db, shop, fact_kind: str, order_id: int, **extra) -> None:
    append_fact(db, fact_kind, {"order_id": order_id, "total_fen": 100, **extra}, merchant_id=shop.merchant.id,
                store_id=shop.store.id)


def test_only_the_installing_merchants_events_signed_and_shaped_as_documented(db, session_factory, scene, receiver):
    endpoint = subscribe(db, scene, receiver.url)
    consumer = make_user(db, name="顾客")
    mine = make_order(db, consumer, shop=scene.shop, paid=True)
    make_order(db, consumer, shop=scene.other_shop, paid=True)  # not installed there: never sent
    make_record(db, scene.shop.store, scene.shop.clerk, consumer=consumer)
    db.commit()

    stats = deliver(session_factory)

    events = [construct_event(r.body, r.headers["Daodian-Signature"], endpoint.secret) for r in receiver.received]
    about_the_order = [e["type"] for e in events if e["data"].get("order_id") == mine.id]
    assert about_the_order == ["order.created", "order.paid", "voucher.issued"]  # its story, in order
    assert sorted(e["type"] for e in events) == sorted(about_the_order + ["consumption.recorded"])
    assert stats.succeeded == 4 and stats.failed == 0
    assert {e["merchant_id"] for e in events} == {scene.shop.merchant.id}
    assert all(e["installation_id"] == scene.installation.id for e in events)
    (paid,) = [e for e in events if e["type"] == "order.paid"]
    assert paid["data"]["amount_fen"] == mine.total_fen and paid["consumer_id"] == consumer.id
    for received, event in zip(receiver.received, events, strict=True):
        assert received.headers["Daodian-Event-Id"] == event["id"]
        jsonschema_rs.validate(envelope_schema(BY_NAME[event["type"]]), event)
    assert deliver(session_factory).sent == 0  # nothing twice


def test_an_installation_without_the_events_scope_gets_none(db, session_factory, scene, receiver):
    scene.installation.scopes = "catalog:read"
    subscribe(db, scene, receiver.url)
    make_order(db, make_user(db), shop=scene.shop, paid=True)
    db.commit()
    deliver(session_factory)
    assert receiver.received == []


def test_receiver_down_for_ten_minutes_then_everything_arrives_in_order_per_object(db, session_factory, scene,
                                                                                     receiver):
    clock = Clock()
    subscribe(db, scene, receiver.url)
    receiver.stop()  # down: connections are refused
    for step in ("order.created", "order.paid", "order.cancelled"):
        for order_id in (11, 12, 13):
            order_fact(db, scene.shop, step, order_id, kind="service", payment_id=1, provider="sandbox",
                       amount_fen=100, fulfilment="at_store", lines=[])
    db.commit()

    ticks(session_factory, 20, clock, timedelta(seconds=30))  # ten minutes of ticks, every 30 s
    attempts = db.scalars(select(WebhookAttempt)).all()
    assert attempts and not any(a.succeeded for a in attempts)
    tried = {d.id for d in db.scalars(select(WebhookDelivery).where(WebhookDelivery.attempts > 0))}
    firsts = db.scalars(select(WebhookDelivery).where(WebhookDelivery.event_type == "order.created")).all()
    assert tried == {d.id for d in firsts}  # nothing later about an order went before its first event

    receiver.start()  # back, on the same port
    clock.advance(minutes=10)
    ticks(session_factory, 30, clock, timedelta(minutes=10))
    events = receiver.events()
    assert len(events) == 9 and len({e["id"] for e in events}) == 9
    for order_id in (11, 12, 13):
        assert [e["type"] for e in events if e["data"]["order_id"] == order_id] == [
            "order.created", "order.paid", "order.cancelled"]


def test_a_delivery_that_gives_up_lets_the_next_one_for_its_object_go(db, session_factory, scene, receiver):
    clock, backoff = Clock(), Backoff(delays=(timedelta(minutes=1), timedelta(minutes=1)))
    subscribe(db, scene, receiver.url)
    receiver.status = 500
    order_fact(db, scene.shop, "order.created", 21, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    for _ in range(3):
        deliver(session_factory, clock=clock, backoff=backoff)
        clock.advance(minutes=2)
    first = db.scalars(select(WebhookDelivery)).one()
    assert first.status == DeliveryStatus.FAILED and first.attempts == 3 and first.last_status_code == 500

    receiver.status = 200
    order_fact(db, scene.shop, "order.cancelled", 21)
    db.commit()
    deliver(session_factory, clock=clock, backoff=backoff)
    assert [e["type"] for e in receiver.events()][-1] == "order.cancelled"


def test_an_endpoint_failing_for_days_is_disabled_and_says_why(db, session_factory, scene, receiver):
    clock = Clock()
    backoff = Backoff(disable_after=timedelta(days=3), disable_min_failures=5)
    endpoint = subscribe(db, scene, receiver.url)
    receiver.status = 503
    for day in range(5):
        order_fact(db, scene.shop, "order.created", 100 + day, kind="service", fulfilment="at_store", lines=[])
        db.commit()
        ticks(session_factory, 12, clock, timedelta(hours=2), backoff=backoff)
    db.refresh(endpoint)
    assert endpoint.status == EndpointStatus.DISABLED and endpoint.disabled_reason == DISABLED_FAILING
    assert endpoint.consecutive_failures >= 5
    assert endpoint.disabled_at - endpoint.failing_since >= timedelta(days=3)
    before = len(receiver.received)
    order_fact(db, scene.shop, "order.created", 999, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    clock.advance(days=1)
    deliver(session_factory, clock=clock, backoff=backoff)
    assert len(receiver.received) == before  # disabled: nothing is sent


def test_redelivery_repeats_the_same_event_id_and_body(db, session_factory, scene, receiver):
    endpoint = subscribe(db, scene, receiver.url)
    order_fact(db, scene.shop, "order.created", 31, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    deliver(session_factory)
    delivery = db.scalars(select(WebhookDelivery)).one()
    service.redeliver(db, endpoint, delivery)
    db.commit()
    deliver(session_factory)
    first, second = receiver.received
    assert first.body == second.body and first.headers["Daodian-Event-Id"] == second.headers["Daodian-Event-Id"]


def test_during_a_rotation_both_secrets_verify(db, session_factory, scene, receiver):
    endpoint = subscribe(db, scene, receiver.url)
    old = endpoint.secret
    service.rotate_secret(db, endpoint)
    order_fact(db, scene.shop, "order.created", 41, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    deliver(session_factory)
    (received,) = receiver.received
    header = received.headers["Daodian-Signature"]
    assert header.count("v1=") == 2
    assert construct_event(received.body, header, old)["id"] == construct_event(received.body, header,
                                                                                endpoint.secret)["id"]


def test_an_uninstalled_app_hears_nothing_more(db, session_factory, scene, receiver):
    subscribe(db, scene, receiver.url)
    scene.installation.uninstalled_at = utcnow()
    db.flush()
    order_fact(db, scene.shop, "order.created", 51, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    deliver(session_factory)
    assert receiver.received == []
    again = install(db, scene.app, scene.shop.merchant, scene.shop.owner)
    order_fact(db, scene.shop, "order.created", 52, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    deliver(session_factory)
    assert [e["installation_id"] for e in receiver.events()] == [again.id]


def test_facts_from_before_the_endpoint_existed_are_not_sent(db, session_factory, scene, receiver):
    order_fact(db, scene.shop, "order.created", 61, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    assert deliver(session_factory).facts == 0  # no endpoint anywhere: the cursor skips ahead
    subscribe(db, scene, receiver.url)
    order_fact(db, scene.shop, "order.created", 62, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    deliver(session_factory)
    assert [e["data"]["order_id"] for e in receiver.events()] == [62]


def test_a_claimed_delivery_is_nobody_elses_until_its_lease_ends(db, session_factory, scene, receiver):
    subscribe(db, scene, receiver.url)
    for order_id in (71, 72, 73):
        order_fact(db, scene.shop, "order.created", order_id, kind="service", fulfilment="at_store", lines=[])
    db.commit()
    fanout.fan_out(session_factory)
    now, lease = utcnow(), timedelta(seconds=60)
    first = claims.claim(db, now, lease, limit=2)
    second = claims.claim(db, now, lease, limit=10)
    assert len(first) == 2 and len(second) == 1
    assert not {c.delivery_id for c in first} & {c.delivery_id for c in second}
    assert claims.claim(db, now + timedelta(seconds=30), lease, limit=10) == []
    again = claims.claim(db, now + timedelta(seconds=61), lease, limit=10)  # the claimer died: they go again
    assert {c.event_id for c in again} == {c.event_id for c in first + second}
