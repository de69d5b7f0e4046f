"""The OAuth 2.0 endpoints (Authlib underneath) end to end over HTTP: client credentials for an installed app,
authorization code with PKCE for a consumer, refresh, revocation, introspection; secrets and their rotation."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from daodian.apps.models import App
from daodian.kit.clock import utcnow
from tests.apps.support import bearer, install, pkce, register
from tests.factories import make_merchant, make_user
from tests.web.support import csrf_from, log_in


def _token(client, app: App, secret: str, merchant_id: int, scope: str | None = None):
    form = {"grant_type": "client_credentials", "merchant_id": str(merchant_id)}
    if scope:
        form["scope"] = scope
    return client.post("/oauth/token", data=form, auth=(app.client_id, secret))


def test_an_installed_app_gets_a_token_for_its_merchant_and_calls_the_api(client, db):
    owner, developer = make_user(db, name="店主"), make_user(db, name="开发者")
    merchant = make_merchant(db, owner)
    app, secret = register(db, developer)
    install(db, app, merchant, owner, ["order:read", "catalog:read"])

    answer = _token(client, app, secret, merchant.id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and "refresh_token" not in body
    assert set(body["scope"].split()) == {"order:read", "catalog:read"}
    assert body["access_token"].startswith("ddat_") and answer.headers["cache-control"] == "no-store"

    orders = client.get(f"/api/v1/merchants/{merchant.id}/orders", headers=bearer(body["access_token"]))
    assert orders.status_code == 200, orders.text
    assert orders.headers["ratelimit-limit"] == "60"


def test_client_credentials_refuse_what_was_not_granted(client, db):
    owner, developer = make_user(db), make_user(db)
    merchant, elsewhere = make_merchant(db, owner), make_merchant(db, make_user(db), name="别家")
    app, secret = register(db, developer)
    install(db, app, merchant, owner, ["order:read"])

    assert _token(client, app, "dds_wrong", merchant.id).json()["error"] == "invalid_client"
    assert _token(client, app, secret, elsewhere.id).json()["error"] == "invalid_grant"
    assert _token(client, app, secret, merchant.id, "order:write").json()["error"] == "invalid_scope"
    missing = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(app.client_id, secret))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_a_rotated_secret_overlaps_then_ends(client, db):
    owner, developer = make_user(db), make_user(db)
    merchant = make_merchant(db, owner)
    app, old = register(db, developer)
    install(db, app, merchant, owner, ["order:read"])
    from daodian.apps import service
    new = service.rotate_secret(db, app)
    assert _token(client, app, new, merchant.id).status_code == 200
    assert _token(client, app, old, merchant.id).status_code == 200  # within the overlap
    app.previous_valid_until = utcnow() - timedelta(seconds=1)
    db.flush()
    assert _token(client, app, old, merchant.id).json()["error"] == "invalid_client"
    assert app.secret_hash != new and len(app.secret_hash) == 64  # only the hash is kept


def test_uninstalling_kills_the_tokens_at_once(client, db):
    owner, developer = make_user(db), make_user(db)
    merchant = make_merchant(db, owner)
    app, secret = register(db, developer)
    installation = install(db, app, merchant, owner, ["order:read"])
    token = _token(client, app, secret, merchant.id).json()["access_token"]
    url = f"/api/v1/merchants/{merchant.id}/orders"
    assert client.get(url, headers=bearer(token)).status_code == 200  # now remembered by this process

    log_in(client, db, owner)
    csrf = csrf_from(client, f"/merchant/{merchant.id}/apps")
    gone = client.post(f"/merchant/{merchant.id}/apps/{installation.id}/uninstall", data={"csrf_token": csrf},
                       follow_redirects=False)
    assert gone.status_code == 303
    client.cookies.clear()
    assert client.get(url, headers=bearer(token)).status_code == 401


def test_authorization_code_with_pkce_for_a_consumer(client, db):
    developer, consumer = make_user(db), make_user(db, name="顾客")
    app, secret = register(db, developer, redirect_uris=["https://app.example/cb"])
    verifier, challenge = pkce()
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": "https://app.example/cb",
             "scope": "order:read member:read", "state": "s1", "code_challenge": challenge,
             "code_challenge_method": "S256"}

    assert client.get("/oauth/authorize", params=query, follow_redirects=False).status_code == 303  # log in first
    log_in(client, db, consumer)
    page = client.get("/oauth/authorize", params=query)
    assert page.status_code == 200 and app.name in page.text and "order:read" in page.text
    csrf = csrf_from(client, "/oauth/authorize?" + "&".join(f"{k}={v}" for k, v in query.items()))
    answer = client.post("/oauth/authorize", data={**query, "csrf_token": csrf, "decision": "allow"},
                         follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    params = parse_qs(back.query)
    assert f"{back.scheme}://{back.netloc}{back.path}" == "https://app.example/cb" and params["state"] == ["s1"]
    code = params["code"][0]
    client.cookies.clear()

    wrong = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code, "client_id": app.client_id,
                                              "redirect_uri": "https://app.example/cb", "code_verifier": "x" * 50})
    assert wrong.json()["error"] == "invalid_grant"  # PKCE: the verifier must match the challenge
    tokens = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                               "client_id": app.client_id, "redirect_uri": "https://app.example/cb",
                                               "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["refresh_token"].startswith("ddrt_")
    mine = client.get("/api/v1/orders", headers=bearer(body["access_token"]))
    assert mine.status_code == 200 and mine.json()["items"] == []
    again = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                              "client_id": app.client_id, "redirect_uri": "https://app.example/cb",
                                              "code_verifier": verifier})
    assert again.json()["error"] == "invalid_grant"  # a code works once

    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                                                  "client_id": app.client_id})
    assert refreshed.status_code == 200, refreshed.text
    assert client.get("/api/v1/orders", headers=bearer(body["access_token"])).status_code == 401  # rotated away
    new = refreshed.json()
    assert client.get("/api/v1/orders", headers=bearer(new["access_token"])).status_code == 200

    introspected = client.post("/oauth/introspect", data={"token": new["access_token"]}, auth=(app.client_id, secret))
    assert introspected.json()["active"] is True and introspected.json()["sub"] == str(consumer.id)
    revoked = client.post("/oauth/revoke", data={"token": new["access_token"]}, auth=(app.client_id, secret))
    assert revoked.status_code == 200
    assert client.get("/api/v1/orders", headers=bearer(new["access_token"])).status_code == 401
    assert client.post("/oauth/introspect", data={"token": new["access_token"]},
                       auth=(app.client_id, secret)).json() == {"active": False}


def test_authorize_refuses_an_unregistered_redirect_and_a_plain_challenge(client, db):
    developer, consumer = make_user(db), make_user(db)
    app, _ = register(db, developer)
    log_in(client, db, consumer)
    _, challenge = pkce()
    bad_redirect = client.get("/oauth/authorize", params={
        "response_type": "code", "client_id": app.client_id, "redirect_uri": "https://evil.example/cb",
        "code_challenge": challenge, "code_challenge_method": "S256"}, follow_redirects=False)
    assert bad_redirect.status_code == 400 and "evil.example" not in bad_redirect.headers.get("location", "")
    no_pkce = client.get("/oauth/authorize", params={
        "response_type": "code", "client_id": app.client_id, "redirect_uri": "https://app.example/cb"},
        follow_redirects=False)
    assert no_pkce.status_code == 302 and "error=invalid_request" in no_pkce.headers["location"]
    plain = client.get("/oauth/authorize", params={
        "response_type": "code", "client_id": app.client_id, "redirect_uri": "https://app.example/cb",
        "code_challenge": "a" * 43, "code_challenge_method": "plain"}, follow_redirects=False)
    assert plain.status_code == 302 and "error=invalid_request" in plain.headers["location"]


def test_denying_sends_access_denied_back(client, db):
    developer, consumer = make_user(db), make_user(db)
    app, _ = register(db, developer)
    _, challenge = pkce()
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": "https://app.example/cb",
             "state": "z", "code_challenge": challenge, "code_challenge_method": "S256"}
    log_in(client, db, consumer)
    csrf = csrf_from(client, "/developers")
    answer = client.post("/oauth/authorize", data={**query, "csrf_token": csrf, "decision": "deny"},
                         follow_redirects=False)
    assert answer.status_code == 302 and "error=access_denied" in answer.headers["location"]
    assert "state=z" in answer.headers["location"]
