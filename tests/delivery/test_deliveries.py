"""A delivery's life: opened when paid, dispatched, picked up when ready, handed over with the consumer's code;
who may see it; positions kept with their datum and throttled."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from daodian.accounts.models import User
from daodian.delivery import dispatching
from daodian.delivery.models import CourierPosition, Delivery, DeliveryAssignment
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from tests.delivery.helpers import DOOR, delivery_order, make_courier
from tests.factories import auth, make_shop, make_user

API = "/api/v1"


def _delivery(db, order) -> Delivery:
    return db.scalars(select(Delivery).where(Delivery.order_id == order.id)).one()


def _ready_now(db, delivery):
    delivery.ready_at = utcnow() - timedelta(seconds=1)
    db.flush()


def test_a_paid_delivery_order_opens_one_delivery_at_the_nearest_store(db, shop, consumer):
    order = delivery_order(db, consumer, shop)
    delivery = _delivery(db, order)
    assert delivery.status == "waiting" and delivery.store_id == shop.store.id
    assert (delivery.dropoff_lat, delivery.dropoff_lng) == (DOOR["lat"], DOOR["lng"])
    assert delivery.ready_at > delivery.placed_at and len(delivery.handover_code) == 6


def test_a_door_in_gcj02_is_kept_in_wgs84(db, shop, consumer):
    order = delivery_order(db, consumer, shop, location={**DOOR, "datum": "gcj02"})
    delivery = _delivery(db, order)
    # GCJ-02 is shifted a few hundred metres from WGS-84 in China: the stored door is not the input.
    assert abs(delivery.dropoff_lat - DOOR["lat"]) > 1e-4 or abs(delivery.dropoff_lng - DOOR["lng"]) > 1e-4


def test_an_order_without_a_located_door_is_left_to_the_merchant(db, shop, consumer):
    order = delivery_order(db, consumer, shop, location=None)
    assert db.scalars(select(Delivery).where(Delivery.order_id == order.id)).first() is None


def test_dispatch_assigns_once_and_a_repeated_cycle_changes_nothing(db, shop, consumer):
    courier = make_courier(db)
    delivery = _delivery(db, delivery_order(db, consumer, shop))
    _ready_now(db, delivery)
    now = utcnow()
    first = dispatching.run_cycle(db, now)
    assert first.assigned == 1
    db.refresh(delivery)
    assert (delivery.status, delivery.courier_id) == ("assigned", courier.id)
    assert delivery.planned_pickup_at is not None and delivery.planned_dropoff_at > delivery.planned_pickup_at
    again = dispatching.run_cycle(db, now)
    assert again.assigned == 0
    assert db.scalar(select(DeliveryAssignment.id).where(DeliveryAssignment.delivery_id == delivery.id)
                     .order_by(DeliveryAssignment.id.desc())) is not None
    assert len(db.scalars(select(DeliveryAssignment).where(DeliveryAssignment.delivery_id == delivery.id)).all()) == 1


@pytest.mark.parametrize("policy", ["optimised", "greedy"])
def test_offline_couriers_and_other_merchants_riders_get_nothing(db, shop, consumer, policy):
    other = make_shop(db, name="别家")
    make_courier(db, name="下线", online=False)
    make_courier(db, name="别家骑手", merchant=other.merchant)
    delivery = _delivery(db, delivery_order(db, consumer, shop))
    _ready_now(db, delivery)
    assert dispatching.run_cycle(db, utcnow(), policy).assigned == 0
    own = make_courier(db, name="自家骑手", merchant=shop.merchant)
    assert dispatching.run_cycle(db, utcnow(), policy).assigned == 1
    db.refresh(delivery)
    assert delivery.courier_id == own.id


def test_the_courier_steps_follow_the_state_machine(db, client, shop, consumer):
    courier = make_courier(db)
    delivery = _delivery(db, delivery_order(db, consumer, shop))
    rider = auth(db, db.get(User, courier.user_id))
    path = f"{API}/deliveries/{delivery.id}"
    not_yet = client.post(f"{path}/pickup", headers=rider)  # waiting: theirs to take, not yet to pick up
    assert (not_yet.status_code, not_yet.json()["error"]["code"]) == (409, "wrong_delivery_state")
    assert client.post(f"{path}/accept", headers=rider).status_code == 200
    early = client.post(f"{path}/pickup", headers=rider)
    assert (early.status_code, early.json()["error"]["code"]) == (409, "not_ready_yet")
    too_soon = client.post(f"{path}/deliver", json={"code": delivery.handover_code}, headers=rider)
    assert (too_soon.status_code, too_soon.json()["error"]["code"]) == (409, "wrong_delivery_state")
    assert client.post(f"{path}/arrive", headers=rider).json()["status"] == "at_store"
    assert client.post(f"{path}/ready", headers=auth(db, shop.clerk)).status_code == 200
    assert client.post(f"{path}/pickup", headers=rider).json()["status"] == "picked_up"
    wrong = client.post(f"{path}/deliver", json={"code": "000000" if delivery.handover_code != "000000" else "111111"},
                        headers=rider)
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (409, "wrong_handover_code")
    done = client.post(f"{path}/deliver", json={"code": delivery.handover_code}, headers=rider)
    assert done.status_code == 200 and done.json()["status"] == "delivered"
    assert [e["status"] for e in done.json()["timeline"]][-1] == "delivered"
    assert db.scalars(select(Fact).where(Fact.kind == "delivery.delivered")).first() is not None


def test_reassignment_is_explicit_and_recorded(db, client, shop, consumer):
    first, second = make_courier(db, name="甲", merchant=shop.merchant), make_courier(db, name="乙", merchant=shop.merchant)
    delivery = _delivery(db, delivery_order(db, consumer, shop))
    _ready_now(db, delivery)
    dispatching.run_cycle(db, utcnow())
    db.refresh(delivery)
    taken_by = delivery.courier_id
    to = second if taken_by == first.id else first
    moved = client.post(f"{API}/deliveries/{delivery.id}/assign", json={"courier_id": to.id, "reason": "车坏了"},
                        headers=auth(db, shop.manager))
    assert moved.status_code == 200 and moved.json()["courier"]["id"] == to.id
    rows = db.scalars(select(DeliveryAssignment).where(DeliveryAssignment.delivery_id == delivery.id)
                      .order_by(DeliveryAssignment.id)).all()
    assert [(r.courier_id, r.released_at is not None) for r in rows] == [(taken_by, True), (to.id, False)]
    assert rows[0].release_reason == "reassigned: 车坏了" and rows[1].policy == "manual"


def test_only_the_consumer_sees_the_handover_code_and_strangers_see_nothing(db, client, shop, consumer):
    order = delivery_order(db, consumer, shop)
    url = f"{API}/orders/{order.id}/delivery"
    mine = client.get(url, headers=auth(db, consumer))
    assert mine.status_code == 200 and mine.json()["handover_code"] == _delivery(db, order).handover_code
    staff = client.get(url, headers=auth(db, shop.clerk))
    assert staff.status_code == 200 and "handover_code" not in staff.json()
    missing = client.get(f"{API}/orders/987654321/delivery", headers=auth(db, consumer))
    for stranger in (make_user(db, name="路人"), make_shop(db, name="别家").owner):
        other = client.get(url, headers=auth(db, stranger))
        assert (other.status_code, other.json()) == (404, missing.json())


def test_positions_are_throttled_and_keep_their_datum(db, client):
    courier = make_courier(db)
    courier.position_at = None
    db.flush()
    rider = auth(db, db.get(User, courier.user_id))
    first = client.post(f"{API}/couriers/me/positions", json={"lat": 30.27, "lng": 120.16, "datum": "gcj02"},
                        headers=rider)
    assert first.status_code == 200 and first.json()["kept"] is True
    second = client.post(f"{API}/couriers/me/positions", json={"lat": 30.28, "lng": 120.17, "datum": "wgs84"},
                         headers=rider)
    assert second.status_code == 200 and second.json()["kept"] is False
    rows = db.scalars(select(CourierPosition).where(CourierPosition.courier_id == courier.id)).all()
    assert len(rows) == 1 and rows[0].input_datum == "gcj02" and rows[0].lat != 30.27
    bad = client.post(f"{API}/couriers/me/positions", json={"lat": 91, "lng": 120.1, "datum": "wgs84"}, headers=rider)
    assert bad.status_code == 422
    assert client.post(f"{API}/couriers/me/positions", json={"lat": 30.2, "lng": 120.1, "datum": "wgs84"},
                       headers=auth(db, make_user(db))).json()["error"]["code"] == "not_a_courier"


def test_a_full_refund_before_pickup_cancels_the_delivery(db, shop, consumer):
    from daodian.delivery.deliveries import cancel_for_order
    order = delivery_order(db, consumer, shop)
    cancel_for_order(db, order.id)
    assert _delivery(db, order).status == "cancelled"


def test_tracking_streams_the_delivery_as_server_sent_events(db, client, shop, consumer):
    courier = make_courier(db)
    order = delivery_order(db, consumer, shop)
    delivery = _delivery(db, order)
    delivery.status, delivery.courier_id, delivery.delivered_at = "delivered", courier.id, utcnow()
    db.flush()
    with client.stream("GET", f"{API}/orders/{order.id}/delivery/events", headers=auth(db, consumer)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())  # a delivered delivery: one event, then the stream ends
    assert "event: delivery" in text and '"status":"delivered"' in text
