"""Registration, login with throttling, bearer tokens and logout."""

import pytest

from daodian.accounts.login_throttle import POLICIES
from tests.factories import PASSWORD, auth, make_merchant, make_user

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
MAX_FAILED_LOGINS = POLICIES["phone"].free  # wrong passwords before a phone is first blocked


def register(api, phone="+86 138-0013-8000", **extra):
    return api.post(REGISTER, json={"phone": phone, "password": PASSWORD, "display_name": "小王", **extra})


def test_register_normalises_the_phone_and_logs_in(api):
    created = register(api)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["user"]["phone"] == "13800138000" and body["token_type"] == "bearer"
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["phone"] == "13800138000" and me.json()["memberships"] == []


@pytest.mark.parametrize("typed", ["13800138000", "+8613800138000", "0086 13800138000", "138 0013 8000"])
def test_the_same_number_typed_differently_is_taken(api, typed):
    assert register(api).status_code == 201
    response = register(api, phone=typed)
    assert response.status_code == 409 and response.json()["error"]["code"] == "phone_taken"


@pytest.mark.parametrize("phone", ["12800138000", "1380013800", "138001380001", "+1 138-0013-8000", "(138)00138000",
                                   "138--0013-8000", "１３８００１３８０００"])
def test_numbers_that_are_not_mainland_mobiles_are_refused(api, phone):
    response = register(api, phone=phone)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["loc"] == ["body", "phone"]


@pytest.mark.parametrize("extra", [{"password": "short"}, {"display_name": "   "}, {"display_name": ""}])
def test_weak_passwords_and_blank_names_are_refused(api, extra):
    assert register(api, **extra).status_code == 422


def test_login_with_the_right_password(api, db):
    user = make_user(db, phone="13911112222")
    response = api.post(LOGIN, json={"phone": "+86 139-1111-2222", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["user"]["id"] == user.id


@pytest.mark.parametrize("phone", ["13911112222", "13900000000"])
def test_wrong_password_or_unknown_phone_is_invalid_credentials(api, db, phone):
    make_user(db, phone="13911112222")
    response = api.post(LOGIN, json={"phone": phone, "password": "not-the-password"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_credentials"


def test_the_sixth_wrong_password_is_throttled_even_with_the_right_one(api, db):
    """From a device that never logged in (tests/accounts/test_login_throttle.py has the rest)."""
    make_user(db, phone="13911112222")
    api.cookies.clear()
    for _ in range(MAX_FAILED_LOGINS):
        assert api.post(LOGIN, json={"phone": "13911112222", "password": "wrong-wrong"}).status_code == 401
    for password in ("wrong-wrong", PASSWORD):
        response = api.post(LOGIN, json={"phone": "13911112222", "password": password})
        assert response.status_code == 429 and response.json()["error"]["code"] == "too_many_attempts"
        assert int(response.headers["Retry-After"]) >= 1


def test_a_good_login_resets_the_count(api, db):
    api.cookies.clear()
    make_user(db, phone="13911112222")
    for _ in range(MAX_FAILED_LOGINS - 1):
        api.post(LOGIN, json={"phone": "13911112222", "password": "wrong-wrong"})
    assert api.post(LOGIN, json={"phone": "13911112222", "password": PASSWORD}).status_code == 200
    assert api.post(LOGIN, json={"phone": "13911112222", "password": "wrong-wrong"}).status_code == 401


def test_logout_revokes_only_the_token_used(api, db):
    user = make_user(db)
    first, second = auth(db, user), auth(db, user)
    assert api.post("/api/v1/auth/logout", headers=first).status_code == 204
    refused = api.get("/api/v1/me", headers=first)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"
    assert api.get("/api/v1/me", headers=second).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}])
def test_me_needs_a_valid_token(api, headers):
    assert api.get("/api/v1/me", headers=headers).status_code == 401


def test_me_lists_staff_roles(api, db):
    owner = make_user(db)
    merchant = make_merchant(db, owner)
    assert api.get("/api/v1/me", headers=auth(db, owner)).json()["memberships"] == [
        {"merchant_id": merchant.id, "role": "owner"}]
