"""At-home service (上门服务): an item marked at-home needs the consumer's located address; paying opens one visit
(a delivery of kind `visit`) that dispatch gives to a provider on duty, never to a courier; the provider sets off
and completes it at the door only with this order's voucher code, verified once through the vouchers domain, and
the service order completes."""

import uuid

import pytest
from sqlalchemy import func, select

from daodian.accounts.models import User
from daodian.delivery import dispatching
from daodian.delivery.models import Delivery, DeliveryAssignment
from daodian.kit.clock import utcnow
from daodian.orders.models import Order
from daodian.vouchers.models import Verification, Voucher
from tests.delivery.helpers import DOOR, at_home_shop, delivery_order, make_courier, make_provider, visit_order
from tests.factories import auth, make_store, make_user

API = "/api/v1"


@pytest.fixture
def home_shop(db):
    return at_home_shop(db, name="上门保洁")


def _visit(db, order) -> Delivery:
    return db.scalars(select(Delivery).where(Delivery.order_id == order.id)).one()


def _voucher(db, order) -> Voucher:
    return db.scalars(select(Voucher).where(Voucher.order_id == order.id)).one()


def _once(headers: dict) -> dict:
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}


def _order_body(shop, address=None) -> dict:
    body = {"lines": [{"service_item_id": shop.item.id, "quantity": 1}]}
    if address is not None:
        body["delivery_address"] = address
    return body


def test_the_merchant_marks_an_item_at_home_through_the_api(db, client, shop):
    owner = auth(db, shop.owner)
    marked = client.patch(f"{API}/service-items/{shop.item.id}", json={"at_home": True}, headers=owner)
    assert marked.status_code == 200 and marked.json()["at_home"] is True
    assert client.get(f"{API}/service-items/{shop.item.id}").json()["at_home"] is True
    made = client.post(f"{API}/merchants/{shop.merchant.id}/service-items", headers=owner, json={
        "service_category": "auto_service.oil_change", "name_zh": "上门洗车", "price_fen": 9900, "duration_min": 60,
        "at_home": True, "store_ids": [shop.store.id]})
    assert made.status_code == 201 and made.json()["at_home"] is True
    clerk = client.patch(f"{API}/service-items/{shop.item.id}", json={"at_home": False}, headers=auth(db, shop.clerk))
    assert clerk.status_code == 403


def test_an_at_home_order_needs_the_address_with_its_location(db, client, home_shop, consumer):
    me = auth(db, consumer)
    address = {"name": "王女士", "phone": "13800000000", "address": "文三路 1 号"}
    for body in (_order_body(home_shop), _order_body(home_shop, address)):
        refused = client.post(f"{API}/orders", json=body, headers=_once(me))
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "service_address_missing")
    with_store = {**_order_body(home_shop, {**address, "location": DOOR}), "store_id": home_shop.store.id}
    refused = client.post(f"{API}/orders", json=with_store, headers=_once(me))
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "at_home_order_invalid")
    placed = client.post(f"{API}/orders", json=_order_body(home_shop, {**address, "location": DOOR}), headers=_once(me))
    assert placed.status_code == 201 and placed.json()["fulfilment"] == "at_home"


def test_an_address_is_refused_for_an_item_used_at_the_store(db, client, shop, consumer):
    body = _order_body(shop, {"name": "王", "phone": "13800000000", "address": "x", "location": DOOR})
    refused = client.post(f"{API}/orders", json=body, headers=_once(auth(db, consumer)))
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_fulfilment")


def test_a_paid_at_home_order_opens_exactly_one_visit_from_the_nearest_offering_store(db, home_shop, consumer):
    far = make_store(db, home_shop.merchant, name="远店", lat=30.4, lng=120.4)  # offers nothing
    near_but_not_offering = make_store(db, home_shop.merchant, name="近店", lat=30.2701, lng=120.1601)
    order = visit_order(db, consumer, home_shop)
    visit = _visit(db, order)
    assert visit.kind == "visit" and visit.status == "waiting"
    assert visit.store_id == home_shop.store.id and visit.store_id not in (far.id, near_but_not_offering.id)
    assert visit.ready_at == visit.placed_at  # nothing to cook: the provider may set off at once
    assert db.scalar(select(func.count()).select_from(Delivery).where(Delivery.order_id == order.id)) == 1


def test_dispatch_gives_visits_to_providers_and_deliveries_to_couriers(db, home_shop, consumer):
    courier = make_courier(db, name="骑手")
    visit = _visit(db, visit_order(db, consumer, home_shop))
    assert dispatching.run_cycle(db, utcnow()).assigned == 0  # a courier is on duty, but no provider
    provider = make_provider(db, name="师傅甲")
    delivery = _visit(db, delivery_order(db, consumer, home_shop))
    delivery.ready_at = utcnow()
    db.flush()
    assert dispatching.run_cycle(db, utcnow()).assigned == 2
    db.refresh(visit)
    db.refresh(delivery)
    assert (visit.status, visit.courier_id) == ("assigned", provider.id)
    assert delivery.courier_id == courier.id
    live = select(func.count()).select_from(DeliveryAssignment).where(DeliveryAssignment.delivery_id == visit.id,
                                                                     DeliveryAssignment.released_at.is_(None))
    assert db.scalar(live) == 1
    assert dispatching.run_cycle(db, utcnow()).assigned == 0  # one provider per visit, a repeated cycle adds none


def test_a_provider_does_one_visit_at_a_time(db, home_shop, consumer):
    provider = make_provider(db, capacity=4)  # a bag for four, but a visit is not carried in a bag
    first = _visit(db, visit_order(db, consumer, home_shop))
    second = _visit(db, visit_order(db, make_user(db, name="邻居"), home_shop))
    assert dispatching.run_cycle(db, utcnow()).assigned == 1
    db.refresh(first)
    db.refresh(second)
    assert sorted([first.status, second.status]) == ["assigned", "waiting"]
    assert provider.id in (first.courier_id, second.courier_id)


def test_couriers_cannot_take_visits_nor_providers_deliveries(db, client, home_shop, consumer):
    courier, provider = make_courier(db), make_provider(db)
    visit = _visit(db, visit_order(db, consumer, home_shop))
    delivery = _visit(db, delivery_order(db, consumer, home_shop))
    as_courier, as_provider = auth(db, db.get(User, courier.user_id)), auth(db, db.get(User, provider.user_id))
    assert [d["id"] for d in client.get(f"{API}/couriers/me/available", headers=as_courier).json()] == [delivery.id]
    assert [d["id"] for d in client.get(f"{API}/couriers/me/available", headers=as_provider).json()] == [visit.id]
    for path, who in ((f"{API}/deliveries/{visit.id}/accept", as_courier),
                      (f"{API}/deliveries/{delivery.id}/accept", as_provider)):
        refused = client.post(path, headers=who)
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "delivery_not_found")
    by_hand = client.post(f"{API}/deliveries/{visit.id}/assign", json={"courier_id": courier.id},
                          headers=auth(db, make_user(db, name="运营", operator=True)))
    assert (by_hand.status_code, by_hand.json()["error"]["code"]) == (409, "courier_role_mismatch")


def test_a_visit_completes_only_with_this_orders_voucher_code_and_once(db, client, home_shop, consumer):
    provider = make_provider(db)
    order = visit_order(db, consumer, home_shop)
    visit, voucher = _visit(db, order), _voucher(db, order)
    other_voucher = _voucher(db, visit_order(db, make_user(db, name="别人"), home_shop))
    me = auth(db, db.get(User, provider.user_id))
    path = f"{API}/deliveries/{visit.id}"
    assert client.post(f"{path}/accept", headers=me).json()["kind"] == "visit"
    early = client.post(f"{path}/complete-visit", json={"code": voucher.code}, headers=me)
    assert (early.status_code, early.json()["error"]["code"]) == (409, "wrong_delivery_state")
    assert client.post(f"{path}/pickup", headers=me).json()["status"] == "picked_up"  # set off at once
    handover = client.post(f"{path}/deliver", json={"code": visit.handover_code}, headers=me)
    assert (handover.status_code, handover.json()["error"]["code"]) == (409, "wrong_delivery_state")
    for wrong in ("NOTACODE", other_voucher.code):
        refused = client.post(f"{path}/complete-visit", json={"code": wrong}, headers=me)
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "voucher_not_found")
    db.expire_all()
    assert db.get(Voucher, other_voucher.id).uses_left == 1 and db.get(Voucher, voucher.id).uses_left == 1
    done = client.post(f"{path}/complete-visit", json={"code": voucher.code}, headers=me)
    assert done.status_code == 200 and done.json()["status"] == "delivered"
    again = client.post(f"{path}/complete-visit", json={"code": voucher.code}, headers=me)
    assert again.status_code == 200  # a retried tap finds it done
    db.expire_all()
    assert db.get(Voucher, voucher.id).uses_left == 0
    assert db.scalar(select(func.count()).select_from(Verification)
                     .where(Verification.voucher_id == voucher.id)) == 1
    assert db.get(Order, order.id).status == "completed"
    assert db.scalars(select(Verification).where(Verification.voucher_id == voucher.id)).one().staff_user_id \
        == provider.user_id


def test_wrong_voucher_codes_at_a_visit_are_throttled_like_the_counter(db, client, home_shop, consumer, settings):
    provider = make_provider(db)
    order = visit_order(db, consumer, home_shop)
    visit, voucher = _visit(db, order), _voucher(db, order)
    me = auth(db, db.get(User, provider.user_id))
    path = f"{API}/deliveries/{visit.id}"
    client.post(f"{path}/accept", headers=me)
    client.post(f"{path}/pickup", headers=me)
    codes = []
    for _ in range(settings.verification_max_failures + 1):
        codes.append(client.post(f"{path}/complete-visit", json={"code": "WRONGCODE1"}, headers=me).status_code)
    assert codes[:-1] == [404] * settings.verification_max_failures and codes[-1] == 429
    throttled = client.post(f"{path}/complete-visit", json={"code": voucher.code}, headers=me)
    assert throttled.json()["error"]["code"] == "verification_throttled"


def test_strangers_get_the_same_404_for_a_visit(db, client, home_shop, consumer):
    order = visit_order(db, consumer, home_shop)
    url = f"{API}/orders/{order.id}/delivery"
    mine = client.get(url, headers=auth(db, consumer))
    assert mine.status_code == 200 and mine.json()["kind"] == "visit" and mine.json()["handover_code"] is None
    missing = client.get(f"{API}/orders/987654321/delivery", headers=auth(db, consumer))
    stranger_provider = make_provider(db, name="别的师傅")
    for stranger in (make_user(db, name="路人"), at_home_shop(db, name="别家").owner,
                     db.get(User, stranger_provider.user_id)):
        other = client.get(url, headers=auth(db, stranger))
        assert (other.status_code, other.json()) == (404, missing.json())
    visit = _visit(db, order)
    outsider = client.post(f"{API}/deliveries/{visit.id}/complete-visit", json={"code": "X"},
                           headers=auth(db, db.get(User, stranger_provider.user_id)))
    assert outsider.status_code == 409  # waiting: theirs to take, not to complete (as for deliveries)
