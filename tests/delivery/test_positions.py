"""Position reports written in batches (delivery.positions): one UPDATE and one INSERT per batch, the throttle
kept exactly, too-soon reports answered from the process's memory, the database still the arbiter."""

from contextlib import contextmanager
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from daodian.accounts.models import User
from daodian.delivery.errors import NotACourier
from daodian.delivery.models import Courier, CourierPosition
from daodian.delivery.positions import POSITION_INTERVAL, PositionMemory, Report, keep_many
from daodian.delivery.schemas import PositionIn
from daodian.geo.datum import Datum, to_wgs84
from daodian.kit.clock import utcnow
from tests.delivery.helpers import make_courier
from tests.factories import auth, make_user
from tests.web.support import csrf_from, log_in

API = "/api/v1"


@contextmanager
def statements(connection):
    """The SQL statements run on the test's connection (the app's transactions are savepoints of it)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper() + " " + statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _at(db, courier: Courier, at: datetime | None) -> Courier:
    courier.position_at = at
    db.flush()
    return courier


def test_a_batch_keeps_one_report_per_courier_per_interval_in_two_writes(db, connection):
    now = utcnow()
    fresh = _at(db, make_courier(db, name="新骑手"), None)
    due = _at(db, make_courier(db, name="到点骑手"), now - POSITION_INTERVAL)  # exactly the interval: kept
    early = _at(db, make_courier(db, name="早报骑手"), now - POSITION_INTERVAL + timedelta(milliseconds=1))
    stranger = make_user(db, name="路人")
    gcj = PositionIn(lat=30.27, lng=120.16, datum=Datum.GCJ02, accuracy_m=12.0)
    wgs = PositionIn(lat=30.28, lng=120.17, datum=Datum.WGS84)
    reports = [Report(fresh.user_id, gcj), Report(due.user_id, wgs), Report(early.user_id, wgs),
               Report(stranger.id, wgs), Report(fresh.user_id, wgs)]  # fresh's second: too soon after its first
    with statements(connection) as seen:
        written = keep_many(connection, reports, {}, now)
    assert sum(s.startswith(("UPDATE", "INSERT", "WITH")) for s in seen) == 2, seen  # one UPDATE, one INSERT
    assert len(seen) <= 4, seen  # with the couriers of the accounts, and the refused ones' times
    kept_until = now + POSITION_INTERVAL
    assert written.outcomes[0] == (True, kept_until) and written.outcomes[1] == (True, kept_until)
    assert written.outcomes[2] == (False, early.position_at + POSITION_INTERVAL)
    assert isinstance(written.outcomes[3], NotACourier)
    assert written.outcomes[4] == (False, kept_until)
    assert written.couriers == {fresh.user_id: fresh.id, due.user_id: due.id, early.user_id: early.id}
    rows = db.scalars(select(CourierPosition).where(CourierPosition.courier_id.in_([fresh.id, due.id, early.id]))
                      .order_by(CourierPosition.id)).all()
    assert [(r.courier_id, r.input_datum, r.input_lat, r.accuracy_m, r.recorded_at) for r in rows] == [
        (fresh.id, "gcj02", 30.27, 12.0, now), (due.id, "wgs84", 30.28, None, now)]
    assert (rows[0].lat, rows[0].lng) == to_wgs84(30.27, 120.16, Datum.GCJ02) != (30.27, 120.16)
    db.expire_all()
    assert (db.get(Courier, fresh.id).position_at, db.get(Courier, fresh.id).lat) == (now, rows[0].lat)
    assert db.get(Courier, early.id).position_at == now - POSITION_INTERVAL + timedelta(milliseconds=1)


def test_the_memory_answers_only_what_the_database_would(db):
    now = utcnow()
    memory = PositionMemory()
    assert memory.too_soon(7, now) is None  # an unknown account: ask the database
    courier = make_courier(db)
    written = keep_many(db.connection(), [Report(courier.user_id, PositionIn(lat=30.2, lng=120.1, datum="wgs84"))],
                        {}, now)
    memory.learn(written)
    assert memory.too_soon(courier.user_id, now + POSITION_INTERVAL - timedelta(microseconds=1)) == (
        now + POSITION_INTERVAL)
    assert memory.too_soon(courier.user_id, now + POSITION_INTERVAL) is None  # due again: the database decides
    memory.learn(keep_many(db.connection(), [Report(courier.user_id, PositionIn(lat=30.2, lng=120.1,
                                                                                datum="wgs84"))], {}, now))
    assert memory.kept_at[courier.id] == now  # a refusal's time never moves the memory back


def test_reports_known_to_be_too_soon_do_not_touch_the_database(db, client, connection):
    courier = _at(db, make_courier(db), None)
    rider = auth(db, db.get(User, courier.user_id))
    first = client.post(f"{API}/couriers/me/positions", json={"lat": 30.27, "lng": 120.16, "datum": "wgs84"},
                        headers=rider)
    assert first.status_code == 200 and first.json()["kept"] is True
    with statements(connection) as seen:
        again = client.post(f"{API}/couriers/me/positions", json={"lat": 30.28, "lng": 120.17, "datum": "wgs84"},
                            headers=rider)
    assert again.status_code == 200 and again.json() == {"kept": False, "next_after": first.json()["next_after"]}
    assert not [s for s in seen if "couriers" in s or "auth_sessions" in s], seen  # nor the token: remembered
    assert len(db.scalars(select(CourierPosition).where(CourierPosition.courier_id == courier.id)).all()) == 1


def test_the_database_stays_the_arbiter_for_what_the_memory_does_not_know(db, client):
    courier = make_courier(db)
    rider = auth(db, db.get(User, courier.user_id))
    elsewhere = _at(db, courier, utcnow() - timedelta(seconds=1)).position_at  # kept by another process
    answer = client.post(f"{API}/couriers/me/positions", json={"lat": 30.27, "lng": 120.16, "datum": "wgs84"},
                         headers=rider)
    assert answer.status_code == 200 and answer.json()["kept"] is False
    assert datetime.fromisoformat(answer.json()["next_after"]) == elsewhere + POSITION_INTERVAL
    assert db.scalars(select(CourierPosition).where(CourierPosition.courier_id == courier.id)).all() == []


def test_who_may_report(db, client):
    body = {"lat": 30.27, "lng": 120.16, "datum": "wgs84"}
    anonymous = client.post(f"{API}/couriers/me/positions", json=body)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"
    forged = client.post(f"{API}/couriers/me/positions", json=body, headers={"Authorization": "Bearer nope"})
    assert forged.status_code == 401
    stranger = client.post(f"{API}/couriers/me/positions", json=body, headers=auth(db, make_user(db)))
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "not_a_courier"
    rider = auth(db, db.get(User, make_courier(db).user_id))
    invalid = client.post(f"{API}/couriers/me/positions", json={**body, "datum": "mars"}, headers=rider)
    assert invalid.status_code == 422


def test_the_courier_page_reports_through_the_same_rules(db, app):
    courier = _at(db, make_courier(db), None)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        log_in(client, db, db.get(User, courier.user_id))
        csrf = csrf_from(client, "/orders")
        form = {"csrf_token": csrf, "lat": "30.27", "lng": "120.16", "accuracy": "9"}
        first = client.post("/courier/position", data=form)
        second = client.post("/courier/position", data=form)
    assert first.status_code == 200 and first.json()["kept"] is True
    assert second.status_code == 200 and second.json() == {"kept": False, "next_after": first.json()["next_after"]}
    rows = db.scalars(select(CourierPosition).where(CourierPosition.courier_id == courier.id)).all()
    assert [(r.input_datum, r.accuracy_m) for r in rows] == [("wgs84", 9.0)]
