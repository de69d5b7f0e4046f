"""The delivery handover code's attempt limit: five wrong codes lock the delivery (`handover_locked`, 429) even
for the right code, until the consumer or the store's counter staff get a fresh code; the courier cannot."""

from datetime import timedelta

from sqlalchemy import select

from daodian.accounts.models import User
from daodian.delivery.deliveries import MAX_HANDOVER_FAILURES
from daodian.delivery.models import Delivery
from daodian.kit.clock import utcnow
from tests.delivery.helpers import delivery_order, make_courier
from tests.factories import auth, make_user

API = "/api/v1"


def _picked_up(db, client, shop, consumer):
    courier = make_courier(db)
    order = delivery_order(db, consumer, shop)
    delivery = db.scalars(select(Delivery).where(Delivery.order_id == order.id)).one()
    delivery.ready_at = utcnow() - timedelta(seconds=1)
    db.flush()
    rider = auth(db, db.get(User, courier.user_id))
    client.post(f"{API}/deliveries/{delivery.id}/accept", headers=rider)
    assert client.post(f"{API}/deliveries/{delivery.id}/pickup", headers=rider).json()["status"] == "picked_up"
    return delivery, rider


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_five_wrong_codes_lock_the_handover_until_a_fresh_code(db, client, shop, consumer):
    delivery, rider = _picked_up(db, client, shop, consumer)
    path = f"{API}/deliveries/{delivery.id}"
    left = []
    for _ in range(MAX_HANDOVER_FAILURES):
        wrong = client.post(f"{path}/deliver", json={"code": _wrong(delivery.handover_code)}, headers=rider)
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (409, "wrong_handover_code")
        left.append(wrong.json()["error"]["details"]["attempts_left"])
    assert left == [4, 3, 2, 1, 0]
    locked = client.post(f"{path}/deliver", json={"code": delivery.handover_code}, headers=rider)
    assert (locked.status_code, locked.json()["error"]["code"]) == (429, "handover_locked")
    not_the_courier = client.post(f"{path}/handover-code", headers=rider)
    assert (not_the_courier.status_code, not_the_courier.json()["error"]["code"]) == (404, "delivery_not_found")
    stranger = client.post(f"{path}/handover-code", headers=auth(db, make_user(db, name="路人")))
    assert stranger.status_code == 404
    fresh = client.post(f"{path}/handover-code", headers=auth(db, consumer))
    assert fresh.status_code == 200
    new_code = fresh.json()["handover_code"]
    db.expire_all()
    assert db.get(Delivery, delivery.id).handover_failures == 0
    done = client.post(f"{path}/deliver", json={"code": new_code}, headers=rider)
    assert done.status_code == 200 and done.json()["status"] == "delivered"


def test_the_store_can_renew_the_code_and_the_count_is_per_delivery(db, client, shop, consumer):
    delivery, rider = _picked_up(db, client, shop, consumer)
    other, _ = _picked_up(db, client, shop, consumer)
    for _ in range(MAX_HANDOVER_FAILURES):
        client.post(f"{API}/deliveries/{delivery.id}/deliver", json={"code": _wrong(delivery.handover_code)},
                    headers=rider)
    db.expire_all()
    assert (db.get(Delivery, delivery.id).handover_failures, db.get(Delivery, other.id).handover_failures) == (5, 0)
    renewed = client.post(f"{API}/deliveries/{delivery.id}/handover-code", headers=auth(db, shop.clerk))
    assert renewed.status_code == 200 and "handover_code" not in renewed.json()  # staff do not see it
    db.expire_all()
    assert db.get(Delivery, delivery.id).handover_failures == 0
