from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from daodian.accounts.models import StaffRole
from daodian.bookings.models import BookingSlot
from daodian.kit.clock import utcnow
from tests.factories import add_staff, auth, make_item, make_merchant, make_slot, make_store, make_user


@pytest.fixture
def shop(db):
    owner = make_user(db)
    merchant = make_merchant(db, owner)
    store = make_store(db, merchant)
    item = make_item(db, merchant, [store.id])
    manager, clerk = make_user(db), make_user(db)
    add_staff(db, merchant, manager, StaffRole.MANAGER)
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    return dict(owner=owner, merchant=merchant, store=store, item=item, manager=manager, clerk=clerk)


def _slot_body(item_id, *, starts_in=timedelta(days=1), minutes=60, capacity=5) -> dict:
    starts = (utcnow() + starts_in).replace(microsecond=0)
    return {"service_item_id": item_id, "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=minutes)).isoformat(), "capacity": capacity}


def _slots(db) -> int:
    return db.scalar(select(func.count()).select_from(BookingSlot))


def test_a_manager_publishes_a_slot(client, db, shop):
    body = _slot_body(shop["item"].id, capacity=3)
    response = client.post(f"/api/v1/stores/{shop['store'].id}/slots", json=body, headers=auth(db, shop["manager"]))
    assert response.status_code == 201, response.text
    slot = response.json()
    assert (slot["capacity"], slot["booked"], slot["remaining"], slot["status"]) == (3, 0, 3, "open")
    assert datetime.fromisoformat(slot["starts_at"]) == datetime.fromisoformat(body["starts_at"])
    again = client.post(f"/api/v1/stores/{shop['store'].id}/slots", json=body, headers=auth(db, shop["manager"]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "slot_exists"


def test_clerks_and_strangers_may_not_publish(client, db, shop):
    url = f"/api/v1/stores/{shop['store'].id}/slots"
    body = _slot_body(shop["item"].id)
    assert client.post(url, json=body).status_code == 401
    for user in (shop["clerk"], make_user(db)):
        assert client.post(url, json=body, headers=auth(db, user)).status_code == 403
    assert _slots(db) == 0


@pytest.mark.parametrize("change", [
    {"ends_at": "starts"},  # ends when it starts
    {"minutes": -30},
    {"minutes": 60 * 25},
    {"capacity": 0},
    {"capacity": 1001},
    {"capacity": "5"},
    {"starts_at": "2030-05-01T10:00:00"},  # no offset
])
def test_slot_validation(client, db, shop, change):
    body = _slot_body(shop["item"].id, minutes=change.get("minutes", 60))
    if change.get("ends_at") == "starts":
        body["ends_at"] = body["starts_at"]
    for key in ("capacity", "starts_at"):
        if key in change:
            body[key] = change[key]
    response = client.post(f"/api/v1/stores/{shop['store'].id}/slots", json=body, headers=auth(db, shop["owner"]))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_the_item_must_be_offered_at_the_store(client, db, shop):
    elsewhere = make_store(db, shop["merchant"], name="滨江店")
    not_here = make_item(db, shop["merchant"], [elsewhere.id])
    foreign = make_item(db, (other := make_merchant(db, make_user(db))), [make_store(db, other).id])
    for item_id in (not_here.id, foreign.id, 999_999_999):
        response = client.post(f"/api/v1/stores/{shop['store'].id}/slots", json=_slot_body(item_id),
                               headers=auth(db, shop["owner"]))
        assert response.status_code == 422 and response.json()["error"]["code"] == "item_not_offered_at_store"


def test_a_slot_in_the_past_is_refused(client, db, shop):
    response = client.post(f"/api/v1/stores/{shop['store'].id}/slots",
                           json=_slot_body(shop["item"].id, starts_in=-timedelta(hours=1)),
                           headers=auth(db, shop["owner"]))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert "past" in response.json()["error"]["message"]


def test_a_weekly_pattern_in_store_time(client, db, shop):
    today = utcnow().date()
    body = {"service_item_id": shop["item"].id, "from_date": str(today + timedelta(days=1)),
            "to_date": str(today + timedelta(days=14)), "weekdays": [1, 3, 5],
            "times": [{"start": "10:00", "end": "11:00"}, {"start": "14:30", "end": "15:30"}], "capacity": 4}
    url = f"/api/v1/stores/{shop['store'].id}/slots/weekly"
    response = client.post(url, json=body, headers=auth(db, shop["manager"]))
    assert response.status_code == 201, response.text
    created = response.json()["created"]
    assert len(created) == 12 and response.json()["skipped"] == 0  # two weeks x three days x two times
    starts = [datetime.fromisoformat(s["starts_at"]) for s in created]
    assert {s.astimezone(UTC).strftime("%H:%M") for s in starts} == {"02:00", "06:30"}  # Asia/Shanghai is UTC+8
    assert {(s + timedelta(hours=8)).isoweekday() for s in starts} == {1, 3, 5}
    again = client.post(url, json=body, headers=auth(db, shop["manager"])).json()
    assert (again["created"], again["skipped"]) == ([], 12)  # publishing twice is harmless
    assert _slots(db) == 12


@pytest.mark.parametrize("change", [
    {"to_date": "before"}, {"to_date": "far"}, {"weekdays": [0]}, {"weekdays": []},
    {"times": [{"start": "11:00", "end": "10:00"}]}, {"times": [{"start": "25:00", "end": "26:00"}]},
    {"times": [{"start": "10:00", "end": "11:00"}, {"start": "10:00", "end": "12:00"}]},
    {"from_date": 20300101}, {"from_date": "0001-01-01"},
    {"times": [{"start": f"{h:02d}:00", "end": f"{h:02d}:30"} for h in range(24)], "weekdays": [1, 2, 3, 4, 5, 6, 7],
     "to_date": "far-ish"},  # 24 x 7 x 7 weeks > 1000 slots
])
def test_weekly_pattern_validation(client, db, shop, change):
    today = utcnow().date()
    body = {"service_item_id": shop["item"].id, "from_date": str(today + timedelta(days=1)),
            "to_date": str(today + timedelta(days=7)), "weekdays": [1], "capacity": 1,
            "times": [{"start": "10:00", "end": "11:00"}]}
    if change.get("to_date") == "before":
        change = {"to_date": str(today)}
    elif change.get("to_date") == "far":
        change = {"to_date": str(today + timedelta(days=100))}
    elif change.get("to_date") == "far-ish":
        change = {**change, "to_date": str(today + timedelta(days=50))}
    response = client.post(f"/api/v1/stores/{shop['store'].id}/slots/weekly", json={**body, **change},
                           headers=auth(db, shop["owner"]))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_anyone_lists_open_slots_in_a_window(client, db, shop):
    other_item = make_item(db, shop["merchant"], [shop["store"].id])
    soon = make_slot(db, shop["store"], shop["item"], starts_at=utcnow() + timedelta(days=1), capacity=2)
    later = make_slot(db, shop["store"], shop["item"], starts_at=utcnow() + timedelta(days=20))
    other = make_slot(db, shop["store"], other_item, starts_at=utcnow() + timedelta(days=2))
    url = f"/api/v1/stores/{shop['store'].id}/slots"
    assert [s["id"] for s in client.get(url).json()] == [soon.id, other.id]  # default: the next 14 days
    window = {"from": (utcnow() + timedelta(days=15)).isoformat(), "to": (utcnow() + timedelta(days=30)).isoformat()}
    assert [s["id"] for s in client.get(url, params=window).json()] == [later.id]
    assert [s["id"] for s in client.get(url, params={"service_item_id": other_item.id}).json()] == [other.id]
    for bad in ({"from": "2030-01-01T00:00:00"}, {"from": window["to"], "to": window["from"]},
                {"from": window["from"], "to": (utcnow() + timedelta(days=100)).isoformat()}, {"from": "yesterday"}):
        response = client.get(url, params=bad)
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error", bad
    assert client.get("/api/v1/stores/999999999/slots").status_code == 404


def test_capacity_never_goes_below_the_booked_places(client, db, shop):
    slot = make_slot(db, shop["store"], shop["item"], capacity=5)
    slot.booked = 3
    db.flush()
    url = f"/api/v1/slots/{slot.id}"
    low = client.patch(url, json={"capacity": 2}, headers=auth(db, shop["manager"]))
    assert low.status_code == 409 and low.json()["error"]["code"] == "capacity_below_booked"
    ok = client.patch(url, json={"capacity": 3}, headers=auth(db, shop["manager"]))
    assert ok.status_code == 200 and ok.json()["remaining"] == 0
    assert client.patch(url, json={"capacity": 9}, headers=auth(db, shop["clerk"])).status_code == 403
