"""Login throttling: per phone, per client address, exponential backoff with Retry-After, kept in the
database for every server process, and never a weapon against an owner on a device they logged in from."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from daodian.accounts import service
from daodian.accounts.known_devices import DEVICE_COOKIE
from daodian.accounts.models import LoginThrottle
from daodian.app import create_app
from daodian.kit.clock import utcnow
from tests.factories import PASSWORD, make_user
from tests.web.support import csrf_from

LOGIN = "/api/v1/auth/login"
PHONE = "13911112222"


@pytest.fixture
def clock(monkeypatch):
    """The login's clock, moved by hand (blocks last seconds to an hour)."""
    now = [utcnow()]
    monkeypatch.setattr(service, "utcnow", lambda: now[0])
    return now


def _try(client: TestClient, password: str, phone: str = PHONE, device: str | None = None):
    client.cookies.clear()  # each call is a fresh device unless it names its cookie
    return client.post(LOGIN, json={"phone": phone, "password": password},
                       headers={"Cookie": f"{DEVICE_COOKIE}={device}"} if device else {})


def _known_device(client: TestClient) -> str:
    response = _try(client, PASSWORD)
    assert response.status_code == 200, response.text
    cookie = response.cookies[DEVICE_COOKIE]
    assert "httponly" in response.headers["set-cookie"].lower()
    return cookie


def test_five_wrong_passwords_block_the_phone_with_retry_after_and_a_stable_code(client, db, clock):
    make_user(db, phone=PHONE)
    for _ in range(4):
        assert _try(client, "wrong-wrong").status_code == 401
    fifth = _try(client, "wrong-wrong")
    assert fifth.status_code == 401  # the fifth is still checked; it starts the first block
    for password in ("wrong-wrong", PASSWORD):  # blocked: not even the right password from a new device
        response = _try(client, password)
        assert response.status_code == 429, response.text
        assert response.json()["error"]["code"] == "too_many_attempts"
        assert response.headers["Retry-After"] == "30"
        assert response.json()["error"]["details"] == {"retry_after_seconds": 30}


def test_each_failure_after_a_block_doubles_the_wait_up_to_an_hour(client, db, clock):
    make_user(db, phone=PHONE)
    waits = []
    for _ in range(12):
        while (response := _try(client, "wrong-wrong")).status_code == 401:
            pass
        waits.append(int(response.headers["Retry-After"]))
        clock[0] += timedelta(seconds=waits[-1])  # wait exactly as told, then fail once more
    assert waits[:6] == [30, 60, 120, 240, 480, 960]
    assert max(waits) == 3600 and waits[-1] == 3600
    clock[0] += timedelta(days=1, seconds=1)  # a quiet day forgets it all
    assert _try(client, PASSWORD).status_code == 200


def test_a_known_device_logs_in_with_the_right_password_while_the_phone_is_attacked(client, db, clock):
    make_user(db, phone=PHONE)
    device = _known_device(client)
    for _ in range(10):  # someone else hammers the phone
        _try(client, "guess-guess")
    assert _try(client, PASSWORD).status_code == 429  # a stranger with the password waits
    assert _try(client, PASSWORD, device=device).status_code == 200  # the owner's phone gets in
    assert _try(client, PASSWORD, device="1.forged.0123456789abcdef0123456789abcdef").status_code == 429


def test_a_known_device_guessing_is_throttled_on_its_own(client, db, clock):
    make_user(db, phone=PHONE)
    device = _known_device(client)
    for _ in range(5):
        assert _try(client, "wrong-wrong", device=device).status_code == 401
    assert _try(client, PASSWORD, device=device).status_code == 429


def test_one_password_sprayed_over_many_phones_is_stopped_per_address(client, db, clock):
    phones = [f"139{n:08d}" for n in range(30)]
    answers = [_try(client, "Password1", phone=phone).status_code for phone in phones]
    assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}, answers
    blocked = _try(client, "Password1", phone="13800000000")
    assert blocked.json()["error"]["code"] == "too_many_attempts" and int(blocked.headers["Retry-After"]) >= 30


def test_the_counts_live_in_the_database_so_every_server_process_agrees(client, db, settings, session_factory,
                                                                         clock):
    make_user(db, phone=PHONE)
    for _ in range(5):
        _try(client, "wrong-wrong")
    keys = db.scalars(select(LoginThrottle.key)).all()
    assert keys and not any(PHONE in k for k in keys), "keys are keyed hashes, not phone numbers"
    with TestClient(create_app(settings, session_factory=session_factory)) as other_process:
        response = _try(other_process, PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == "30"
    assert db.scalar(select(func.count()).select_from(LoginThrottle)) == 2  # the phone and the address


def test_the_page_login_is_throttled_alike_and_remembers_the_device(client, db, clock):
    make_user(db, phone=PHONE)

    def page_login(password: str, device: str | None = None):
        client.cookies.clear()
        if device:
            client.cookies.set(DEVICE_COOKIE, device)
        return client.post("/login", data={"csrf_token": csrf_from(client), "phone": PHONE, "password": password},
                           follow_redirects=False)

    first = page_login(PASSWORD)
    assert first.status_code == 303 and DEVICE_COOKIE in first.cookies
    device = first.cookies[DEVICE_COOKIE]
    for _ in range(5):
        assert page_login("wrong-wrong").status_code == 401
    refused = page_login(PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    assert "密码错误次数过多" in refused.text
    assert page_login(PASSWORD, device=device).status_code == 303
