"""The developer console, the install consent page, a merchant's installed apps, a consumer's authorised apps,
and the developer guide in both languages."""

import re

from sqlalchemy import select

from daodian.accounts.models import StaffRole
from daodian.accounts.tokens.hashing import hash_token
from daodian.apps.models import App, AppInstallation, ConsumerGrant, OAuthToken
from tests.apps.support import bearer, mint, register
from tests.factories import add_staff, make_merchant, make_user
from tests.web.support import csrf_from, english, log_in

SECRET = re.compile(r'data-testid="client-secret">(dds_[\w-]+)<')


def test_a_developer_registers_an_app_and_sees_the_secret_once(client, db):
    developer = make_user(db, name="开发者")
    log_in(client, db, developer)
    csrf = csrf_from(client, "/developers/apps")
    answer = client.post("/developers/apps", data={
        "csrf_token": csrf, "name": "记账助手", "description": "", "redirect_uris": "https://app.example/cb",
        "web_origins": "https://shop.example.com\nhttp://localhost:5173", "scopes": ["order:read", "catalog:read"]})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    secret = SECRET.search(answer.text)[1]
    app = db.scalar(select(App).where(App.developer_id == developer.id))
    assert app.secret_hash == hash_token(secret) and secret not in str(app.__dict__)
    assert app.web_origins == ["https://shop.example.com", "http://localhost:5173"]
    page = client.get(f"/developers/apps/{app.id}")
    assert page.status_code == 200 and app.client_id in page.text and secret not in page.text

    csrf = csrf_from(client, f"/developers/apps/{app.id}")
    rotated = client.post(f"/developers/apps/{app.id}/secret", data={"csrf_token": csrf})
    new = SECRET.search(rotated.text)[1]
    db.refresh(app)
    assert new != secret and app.secret_hash == hash_token(new) and app.previous_secret_hash == hash_token(secret)


def test_bad_settings_come_back_with_a_message(client, db):
    log_in(client, db, make_user(db))
    csrf = csrf_from(client, "/developers/apps")
    answer = client.post("/developers/apps", data={"csrf_token": csrf, "name": "x", "redirect_uris": "http://evil.example/cb",
                                                    "web_origins": "", "scopes": ["order:read"]})
    assert answer.status_code == 422 and 'data-testid="app-error"' in answer.text


def test_another_developers_app_is_not_there(client, db):
    app, _ = register(db, make_user(db))
    log_in(client, db, make_user(db))
    assert client.get(f"/developers/apps/{app.id}").status_code == 404


def test_the_owner_installs_on_the_consent_page_granting_fewer_scopes(client, db):
    owner = make_user(db, name="店主")
    merchant = make_merchant(db, owner)
    app, _ = register(db, make_user(db), scopes=["order:read", "catalog:read", "analytics:read"])
    log_in(client, db, owner)
    page = client.get(f"/merchant/{merchant.id}/apps/install", params={"client_id": app.client_id})
    assert page.status_code == 200
    for scope in ("order:read", "catalog:read", "analytics:read"):
        assert scope in page.text
    csrf = csrf_from(client, f"/merchant/{merchant.id}/apps")
    done = client.post(f"/merchant/{merchant.id}/apps/install", data={
        "csrf_token": csrf, "client_id": app.client_id, "scopes": ["order:read"]}, follow_redirects=False)
    assert done.status_code == 303
    installation = db.scalar(select(AppInstallation).where(AppInstallation.app_id == app.id))
    assert installation.scopes == "order:read" and installation.installed_by == owner.id
    listed = client.get(f"/merchant/{merchant.id}/apps")
    assert f'data-testid="installation-{installation.id}"' in listed.text
    again = client.post(f"/merchant/{merchant.id}/apps/install", data={"csrf_token": csrf, "client_id": app.client_id})
    assert again.status_code == 409  # one live installation per app and merchant


def test_only_the_owner_installs(client, db):
    owner, manager = make_user(db), make_user(db, name="店长")
    merchant = make_merchant(db, owner)
    add_staff(db, merchant, manager, StaffRole.MANAGER)
    app, _ = register(db, make_user(db))
    log_in(client, db, manager)
    assert client.get(f"/merchant/{merchant.id}/apps/install", params={"client_id": app.client_id}).status_code == 403
    csrf = csrf_from(client, f"/merchant/{merchant.id}/apps")
    refused = client.post(f"/merchant/{merchant.id}/apps/install", data={"csrf_token": csrf, "client_id": app.client_id})
    assert refused.status_code == 403
    assert db.scalar(select(AppInstallation).where(AppInstallation.app_id == app.id)) is None


def test_a_consumer_removes_an_apps_access_and_its_tokens_die(client, db):
    consumer = make_user(db, name="顾客")
    app, _ = register(db, make_user(db))
    grant = ConsumerGrant(app_id=app.id, user_id=consumer.id, scopes="order:read")
    db.add(grant)
    db.flush()
    token = mint(db, app, user=consumer, scopes="order:read")
    assert client.get("/api/v1/orders", headers=bearer(token)).status_code == 200
    log_in(client, db, consumer)
    page = client.get("/me/apps")
    assert app.name in page.text
    csrf = csrf_from(client, "/me/apps")
    assert client.post(f"/me/apps/{grant.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert client.get("/api/v1/orders", headers=bearer(token)).status_code == 401
    assert db.scalar(select(OAuthToken.revoked_at).where(OAuthToken.app_id == app.id)) is not None


def test_the_guide_in_both_languages(client):
    zh = client.get("/developers")
    assert zh.status_code == 200 and "开发者指南" in zh.text and "/oauth/token" in zh.text and "map:read" in zh.text
    english(client)
    en = client.get("/developers")
    assert "Developer guide" in en.text and "Get a token" in en.text and "RateLimit-Remaining" in en.text
