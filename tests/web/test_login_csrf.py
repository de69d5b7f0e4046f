"""Login CSRF: a visitor's form token belongs to that visitor's browser, and posts from other sites are refused."""

from fastapi.testclient import TestClient

from daodian.kit.html.rendering import PRE_SESSION_COOKIE, SESSION_COOKIE
from tests.factories import PASSWORD, make_user
from tests.web.support import csrf_from


def _login(client: TestClient, token: str, phone: str, **headers) -> object:
    return client.post("/login", data={"csrf_token": token, "phone": phone, "password": PASSWORD},
                       headers=headers, follow_redirects=False)


def test_two_visitors_who_are_not_logged_in_get_different_tokens(app):
    with TestClient(app) as alice, TestClient(app) as mallory:
        assert csrf_from(alice) != csrf_from(mallory)
        assert alice.cookies.get(PRE_SESSION_COOKIE) != mallory.cookies.get(PRE_SESSION_COOKIE)


def test_a_token_from_another_browser_does_not_log_this_one_in(app, db):
    """The attack: Mallory takes a token from her own visit and makes Alice's browser post it with Mallory's
    credentials, so that Alice ends up in Mallory's account."""
    mallory_account = make_user(db)
    with TestClient(app) as mallory, TestClient(app) as alice:
        stolen = csrf_from(mallory)
        csrf_from(alice)  # Alice has visited the site before: she has a pre-session cookie of her own
        response = _login(alice, stolen, mallory_account.phone)
        assert response.status_code == 403
        assert SESSION_COOKIE not in response.cookies


def test_a_browser_that_never_saw_a_page_cannot_post_the_login_form(app, db):
    user = make_user(db)
    with TestClient(app) as mallory, TestClient(app) as fresh:
        response = _login(fresh, csrf_from(mallory), user.phone)
        assert response.status_code == 403 and SESSION_COOKIE not in response.cookies


def test_a_post_from_another_site_is_refused_even_with_a_valid_token(app, db):
    user = make_user(db)
    with TestClient(app) as client:
        token = csrf_from(client)
        refused = _login(client, token, user.phone, origin="https://evil.example")
        assert refused.status_code == 403 and SESSION_COOKIE not in refused.cookies
        refused = _login(client, token, user.phone, **{"sec-fetch-site": "cross-site"})
        assert refused.status_code == 403
        same_site = _login(client, token, user.phone, origin="http://testserver")
        assert same_site.status_code == 303 and same_site.cookies.get(SESSION_COOKIE)
