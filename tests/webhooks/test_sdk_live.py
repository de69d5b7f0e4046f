"""The SDK against a live server (a real uvicorn on a free port, tests.conftest.live_server): the client-
credentials grant fetched on first use and renewed after the server revoked the token; a refresh token used
when the access token has expired (and its rotation reported); the typed webhook calls and the error codes."""

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from daodian_sdk import ApiError, Client, ClientCredentials, RefreshingToken, TokenError

from daodian.accounts import service as accounts
from daodian.accounts.dependencies import SESSION_COOKIE
from daodian.kit.db import unit_of_work
from tests.apps.support import install, pkce, register
from tests.factories import make_merchant, make_user, token_for

REDIRECT = "https://app.example/cb"


@pytest.fixture(scope="module")
def world(live_server):
    with unit_of_work(live_server.session_factory) as db:
        owner, developer, consumer = make_user(db, name="店主"), make_user(db, name="开发者"), make_user(db, name="顾客")
        merchant = make_merchant(db, owner)
        app, secret = register(db, developer, redirect_uris=[REDIRECT])
        install(db, app, merchant, owner, ["order:read"])
        cookie, _ = accounts.open_session(db, consumer, kind="cookie", days=1)
        return {"client_id": app.client_id, "secret": secret, "app_id": app.id, "merchant_id": merchant.id,
                "developer_token": token_for(db, developer), "consumer_cookie": cookie,
                "stranger_token": token_for(db, owner)}


def test_client_credentials_are_fetched_then_renewed_after_a_revocation(live_server, world):
    auth = ClientCredentials(world["client_id"], world["secret"], merchant_id=world["merchant_id"])
    with Client(live_server.url, auth) as client:
        assert client.get(f"/merchants/{world['merchant_id']}/orders")["items"] == []
        first = auth.token.access_token
        revoked = httpx.post(f"{live_server.url}/oauth/revoke", data={"token": first},
                             auth=(world["client_id"], world["secret"]))
        assert revoked.status_code == 200
        assert client.get(f"/merchants/{world['merchant_id']}/orders")["items"] == []  # 401, renewed, retried
        assert auth.token.access_token != first


def test_wrong_credentials_are_a_token_error(live_server, world):
    wrong = ClientCredentials(world["client_id"], "wrong", merchant_id=world["merchant_id"])
    with Client(live_server.url, wrong) as client, pytest.raises(TokenError) as refused:
        client.get(f"/merchants/{world['merchant_id']}/orders")
    assert refused.value.code == "invalid_client" and refused.value.status == 401


def _consumer_tokens(live_server, world) -> dict:
    """The authorization-code grant with PKCE, as a consumer's browser and the app's server do it."""
    verifier, challenge = pkce()
    query = {"response_type": "code", "client_id": world["client_id"], "redirect_uri": REDIRECT,
             "scope": "order:read", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}
    with httpx.Client(base_url=live_server.url, cookies={SESSION_COOKIE: world["consumer_cookie"]}) as browser:
        page = browser.get("/oauth/authorize", params=query)
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)
        answer = browser.post("/oauth/authorize", data={**query, "csrf_token": csrf, "decision": "allow"},
                              headers={"Origin": live_server.url})
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = httpx.post(f"{live_server.url}/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
        auth=(world["client_id"], world["secret"]))
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def test_an_expired_access_token_is_refreshed_and_the_rotation_reported(live_server, world):
    tokens = _consumer_tokens(live_server, world)
    stored = []
    auth = RefreshingToken(tokens["access_token"], tokens["refresh_token"], world["client_id"], world["secret"],
                           expires_at=0, on_refresh=stored.append)
    with Client(live_server.url, auth) as client:
        assert client.get("/orders")["items"] == []
    (fresh,) = stored
    assert fresh.access_token != tokens["access_token"] and fresh.refresh_token != tokens["refresh_token"]
    old = httpx.get(f"{live_server.url}/api/v1/orders", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert old.status_code == 401  # the refresh rotated the old pair away


def test_typed_webhook_calls_and_error_codes(live_server, world):
    with Client(live_server.url, world["developer_token"]) as client:
        catalogue = client.event_types()
        assert {"order.paid", "member.joined"} <= {e.name for e in catalogue}
        created = client.create_webhook_endpoint(world["app_id"], "https://hooks.example.com/in", ["order.paid"])
        assert created.secret.startswith("whsec_") and created.status == "active"
        (listed,) = [e for e in client.webhook_endpoints(world["app_id"]) if e.id == created.id]
        assert listed.secret is None and listed.created_at.tzinfo is not None
        disabled = client.update_webhook_endpoint(world["app_id"], created.id, status="disabled")
        assert disabled.disabled_reason == "by_developer"
        assert client.webhook_deliveries(world["app_id"], created.id).items == []
        with pytest.raises(ApiError) as bad:
            client.create_webhook_endpoint(world["app_id"], "https://hooks.example.com/in", ["order.unknown"])
        assert bad.value.status == 422 and bad.value.code == "unknown_event"
    with Client(live_server.url, world["stranger_token"]) as stranger, pytest.raises(ApiError) as hidden:
        stranger.webhook_endpoints(world["app_id"])  # the installing merchant's owner: not the developer
    assert hidden.value.status == 404 and hidden.value.code == "app_not_found"
