"""Login, logout and CSRF on the pages."""

import pytest

from daodian.accounts.models import StaffRole
from daodian.merchants.models import Store
from tests.factories import PASSWORD, add_staff, make_merchant, make_store, make_user
from tests.web.support import csrf_from, english, hours_form, log_in, stored_hours


def _login(client, phone: str, password: str = PASSWORD, next_path: str = ""):
    return client.post("/login", data={"csrf_token": csrf_from(client), "phone": phone, "password": password,
                                       "next": next_path}, follow_redirects=False)


def test_login_page_in_both_languages(client):
    page = client.get("/login")
    assert page.status_code == 200 and "手机号" in page.text and "密码" in page.text and 'name="csrf_token"' in page.text
    english(client)
    page = client.get("/login")
    assert "Mobile number" in page.text and "Password" in page.text


def test_staff_log_in_to_the_console_with_a_session_cookie(client, db):
    owner = make_user(db, name="王老板")
    merchant = make_merchant(db, owner, name="老王汽修")
    response = _login(client, owner.phone)
    assert response.status_code == 303 and response.headers["location"] == "/merchant"
    cookie = response.headers["set-cookie"]
    assert "daodian_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # settings.cookie_secure is off in tests
    console = client.get("/merchant")
    assert console.status_code == 200 and "老王汽修" in console.text and "王老板" in console.text
    assert f'href="/merchant/{merchant.id}"' in console.text


def test_login_goes_back_to_a_local_next_page_only(client, db):
    user = make_user(db)
    assert _login(client, user.phone, next_path="/c/auto").headers["location"] == "/c/auto"
    client.cookies.clear()
    assert _login(client, user.phone, next_path="//evil.example").headers["location"] == "/"


def test_wrong_password_shows_a_message_on_the_form(client, db):
    user = make_user(db)
    response = _login(client, user.phone, "wrong-password")
    assert response.status_code == 401 and "手机号或密码错误" in response.text
    assert f'value="{user.phone}"' in response.text and "daodian_session" not in response.headers.get("set-cookie", "")
    english(client)
    assert "Phone number or password is wrong." in _login(client, user.phone, "wrong-password").text


def test_malformed_phone_is_a_422_form_not_a_crash(client):
    response = _login(client, "not-a-phone")
    assert response.status_code == 422 and "请输入 11 位大陆手机号和密码" in response.text


def test_repeated_wrong_passwords_throttle_the_login(client, db):
    user = make_user(db)
    for _ in range(5):
        assert _login(client, user.phone, "wrong-password").status_code == 401
    response = _login(client, user.phone)  # even the right password, for a while
    assert response.status_code == 429 and "密码错误次数过多" in response.text


def test_logout_revokes_the_session(client, db):
    user = make_user(db)
    make_merchant(db, user)
    log_in(client, db, user)
    old_cookie = client.cookies.get("daodian_session")
    response = client.post("/logout", data={"csrf_token": csrf_from(client, "/merchant")}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    client.cookies.set("daodian_session", old_cookie)  # a copied cookie is dead too
    assert client.get("/merchant", follow_redirects=False).headers["location"] == "/login?next=/merchant"


@pytest.mark.parametrize("token", [None, "", "0" * 64, "not-hex"])
def test_posts_without_the_right_csrf_token_are_refused(client, db, token):
    user = make_user(db)
    data = {"phone": user.phone, "password": PASSWORD} | ({"csrf_token": token} if token is not None else {})
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403 and "表单已过期" in response.text
    assert client.post("/lang", data={"lang": "en"}).status_code == 403


def test_csrf_token_is_bound_to_the_session(client, db):
    owner = make_user(db)
    store = make_store(db, make_merchant(db, owner))
    anonymous_token = csrf_from(client, "/login")
    log_in(client, db, owner)
    before = stored_hours(db, store)
    form = hours_form(anonymous_token, [(1, "08:00", "20:00", False)])
    response = client.post(f"/merchant/stores/{store.id}/hours", data=form, follow_redirects=False)
    assert response.status_code == 403 and stored_hours(db, store) == before


def test_a_clerk_logs_in_to_a_read_only_console(client, db):
    owner, clerk = make_user(db), make_user(db, name="小李")
    merchant = make_merchant(db, owner)
    store = make_store(db, merchant)
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    assert _login(client, clerk.phone).headers["location"] == "/merchant"
    page = client.get(f"/merchant/{merchant.id}")
    assert page.status_code == 200 and db.get(Store, store.id).name in page.text
    assert f'href="/merchant/stores/{store.id}"' not in page.text  # no edit link (reviews are read-only for clerks)
