"""Position reports over the courier's WebSocket (delivery.position_socket): the same rules as the POST route,
one frame in and one out per report, refusals in the error envelope, and the caller checked at every frame."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from daodian.accounts.models import User
from daodian.cli.serving import UVICORN_OPTIONS
from daodian.delivery.models import Courier, CourierPosition
from daodian.delivery.position_socket import MAX_FRAME
from daodian.geo.datum import Datum, to_wgs84
from daodian.kit.db import unit_of_work
from tests.delivery.helpers import make_courier
from tests.factories import auth, make_user
from tests.web.support import log_in

LIVE = "/api/v1/couriers/me/positions/live"
HERE = {"lat": 30.27, "lng": 120.16, "datum": "gcj02", "accuracy_m": 8.0}


def _courier(db) -> Courier:
    courier = make_courier(db)
    courier.position_at = None
    db.flush()
    return courier


def _history(db, courier: Courier) -> list[CourierPosition]:
    return db.scalars(select(CourierPosition).where(CourierPosition.courier_id == courier.id)).all()


def test_a_courier_reports_over_one_socket_as_the_route_would_keep_them(db, client):
    courier = _courier(db)
    with client.websocket_connect(LIVE, headers=auth(db, db.get(User, courier.user_id))) as socket:
        socket.send_json(HERE)
        first = socket.receive_json()
        socket.send_json({**HERE, "lat": 30.28})  # at once: sooner than the server keeps them
        second = socket.receive_json()
    assert first["kept"] is True
    assert second == {"kept": False, "next_after": first["next_after"]}
    rows = _history(db, courier)
    assert [(r.input_datum, r.input_lat, r.accuracy_m) for r in rows] == [("gcj02", 30.27, 8.0)]
    assert (rows[0].lat, rows[0].lng) == to_wgs84(30.27, 120.16, Datum.GCJ02)


def test_a_bad_report_is_answered_in_the_envelope_and_the_socket_goes_on(db, client):
    courier = _courier(db)
    with client.websocket_connect(LIVE, headers=auth(db, db.get(User, courier.user_id))) as socket:
        socket.send_text("not json")
        not_json = socket.receive_json()
        socket.send_json({**HERE, "datum": "mars", "lat": 91})
        invalid = socket.receive_json()
        socket.send_text("{" + " " * MAX_FRAME + "}")
        too_large = socket.receive_json()
        socket.send_json(HERE)
        kept = socket.receive_json()
    assert not_json["error"]["code"] == "validation_error"
    assert invalid["error"]["code"] == "validation_error"
    assert sorted(p["loc"][-1] for p in invalid["error"]["details"]) == ["datum", "lat"]
    assert too_large["error"]["code"] == "payload_too_large"
    assert kept["kept"] is True and len(_history(db, courier)) == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}])
def test_a_handshake_without_a_live_token_is_refused_with_401(client, headers):
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(LIVE, headers=headers):
        pass
    assert refused.value.status_code == 401
    assert refused.value.json()["error"]["code"] == "not_authenticated"


def test_an_account_that_is_no_courier_is_told_so_and_the_socket_closes(db, client):
    with client.websocket_connect(LIVE, headers=auth(db, make_user(db))) as socket:
        socket.send_json(HERE)
        answer = socket.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert answer["error"]["code"] == "not_a_courier"
    assert closed.value.code == 4403


def test_a_logout_ends_the_socket_at_its_next_report(db, client):
    courier = _courier(db)
    rider = auth(db, db.get(User, courier.user_id))
    with client.websocket_connect(LIVE, headers=rider) as socket:
        socket.send_json(HERE)
        assert socket.receive_json()["kept"] is True
        assert client.post("/api/v1/auth/logout", headers=rider).status_code in (200, 204)
        socket.send_json(HERE)
        answer = socket.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert answer["error"]["code"] == "not_authenticated" and closed.value.code == 4401


def test_the_courier_page_opens_it_with_its_cookie_from_this_site_only(db, app):
    courier = _courier(db)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        log_in(client, db, db.get(User, courier.user_id))
        with pytest.raises(WebSocketDenialResponse) as refused, \
                client.websocket_connect(LIVE, headers={"Origin": "https://evil.example"}):
            pass
        with client.websocket_connect(LIVE, headers={"Origin": "http://testserver"}) as socket:
            socket.send_json({**HERE, "datum": "wgs84"})
            kept = socket.receive_json()
    assert refused.value.status_code == 403 and refused.value.json()["error"]["code"] == "csrf_failed"
    assert kept["kept"] is True
    assert [r.input_datum for r in _history(db, courier)] == ["wgs84"]


def test_over_a_real_server_reports_are_answered_and_a_huge_frame_closes_the_socket(live_server):
    with unit_of_work(live_server.session_factory) as session:
        courier = _courier(session)
        rider = auth(session, session.get(User, courier.user_id))
    url = live_server.url.replace("http://", "ws://") + LIVE
    with connect(url, additional_headers=rider) as socket:
        socket.send(json.dumps(HERE))
        assert json.loads(socket.recv(timeout=10))["kept"] is True
        socket.send("x" * (UVICORN_OPTIONS["ws_max_size"] + 1))  # refused by the server before it is read
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd.code == 1009  # "message too big"
