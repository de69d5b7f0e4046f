"""Apps' tokens against the API: scopes route by route, tenancy, closed routes, rate limits."""

import pytest

from daodian.accounts.models import User
from daodian.follows.models import MerchantPost
from daodian.kit.api import scopes
from tests.apps.support import bearer, install, mint, register
from tests.factories import make_merchant, make_user


@pytest.fixture
def scene(db):
    owner, developer = make_user(db, name="店主"), make_user(db, name="开发者")
    merchant = make_merchant(db, owner)
    other = make_merchant(db, make_user(db), name="别家")
    app, _ = register(db, developer)
    installation = install(db, app, merchant, owner, ["order:read", "catalog:read", "catalog:write", "member:write"])
    token = mint(db, app, installation=installation, scopes=installation.scopes)
    return {"owner": owner, "merchant": merchant, "other": other, "app": app, "installation": installation,
            "token": token}


def test_a_missing_scope_is_403_insufficient_scope(client, scene):
    answer = client.get(f"/api/v1/merchants/{scene['merchant'].id}/analytics/sales", headers=bearer(scene["token"]))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "insufficient_scope"
    assert answer.json()["error"]["details"] == {"required_scope": "analytics:read"}


def test_an_installed_app_reads_its_merchant_only(client, scene):
    mine = client.get(f"/api/v1/merchants/{scene['merchant'].id}/orders", headers=bearer(scene["token"]))
    theirs = client.get(f"/api/v1/merchants/{scene['other'].id}/orders", headers=bearer(scene["token"]))
    assert mine.status_code == 200
    assert theirs.status_code in (403, 404)


def test_an_installed_app_writes_as_a_manager_never_as_the_owner(client, db, scene):
    merchant_id = scene["merchant"].id
    renamed = client.patch(f"/api/v1/merchants/{merchant_id}", json={"description": "新简介"},
                           headers=bearer(scene["token"]))
    assert renamed.status_code == 200, renamed.text
    post = client.post(f"/api/v1/merchants/{merchant_id}/posts", json={"title": "新品到店", "body": "欢迎光临"},
                       headers=bearer(scene["token"]))
    assert post.status_code == 201, post.text
    author = db.get(User, db.get(MerchantPost, post.json()["id"]).author_id)  # the app's own account
    assert author.id == scene["installation"].account_id != scene["owner"].id
    assert author.display_name == scene["app"].name
    staff = client.post(f"/api/v1/merchants/{merchant_id}/staff", json={"phone": "13900009999", "role": "clerk"},
                        headers=bearer(scene["token"]))
    assert staff.status_code == 403 and staff.json()["error"]["code"] == "app_not_allowed"


def test_account_and_operator_routes_refuse_apps(client, scene):
    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/me/export"), ("GET", "/api/v1/admin/links"),
                         ("POST", "/api/v1/auth/logout")):
        answer = client.request(method, path, headers=bearer(scene["token"]))
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["error"]["code"] == "app_not_allowed"


def test_an_installed_app_may_not_use_its_installers_own_account(client, scene):
    answer = client.get("/api/v1/orders", headers=bearer(scene["token"]))  # "self": the owner's own orders
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "app_not_allowed"


def test_a_consumer_authorised_app_sees_that_consumer_only(client, db, scene):
    consumer = make_user(db, name="顾客")
    token = mint(db, scene["app"], user=consumer, scopes="order:read")
    assert client.get("/api/v1/orders", headers=bearer(token)).status_code == 200
    staffish = client.get(f"/api/v1/merchants/{scene['merchant'].id}/orders", headers=bearer(token))
    assert staffish.status_code in (403, 404)


def test_a_consumer_token_has_no_staff_powers_even_for_staff(client, db, scene):
    token = mint(db, scene["app"], user=scene["owner"], scopes="order:read")
    answer = client.get(f"/api/v1/merchants/{scene['merchant'].id}/orders", headers=bearer(token))
    assert answer.status_code == 403


def test_rate_limit_answers_429_with_retry_after(client, app, scene):
    settings = app.state.settings
    burst, rate = settings.app_rate_burst, settings.app_rate_per_second
    settings.app_rate_burst, settings.app_rate_per_second = 3, 0.5
    try:
        url = f"/api/v1/merchants/{scene['merchant'].id}/orders"
        answers = [client.get(url, headers=bearer(scene["token"])) for _ in range(4)]
    finally:
        settings.app_rate_burst, settings.app_rate_per_second = burst, rate
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    limited = answers[-1]
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited.headers["retry-after"] == "2" and limited.headers["ratelimit-limit"] == "3"
    assert limited.headers["ratelimit-policy"] == "3;w=6"


def test_people_are_not_rate_limited_or_scoped(client, db, scene):
    from tests.factories import auth
    answer = client.get(f"/api/v1/merchants/{scene['merchant'].id}/orders", headers=auth(db, scene["owner"]))
    assert answer.status_code == 200 and "ratelimit-limit" not in answer.headers


def test_every_api_route_declares_its_scope_in_openapi(client):
    schema = client.get("/openapi.json").json()
    assert "OAuth2" in schema["components"]["securitySchemes"]
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            scope = operation.get(scopes.SCOPE_EXTENSION, "undeclared")
            assert scope is False or scope == scopes.ANY_APP or scope in scopes.SCOPES, (method, path, scope)
            if scope in scopes.SCOPES:
                assert {"OAuth2": [scope]} in operation["security"]
            if operation.get("x-access") in scopes.CLOSED_ACCESS:
                assert scope is False, (method, path)


def test_an_installed_app_never_sees_its_installers_own_purchases(client, db, scene):
    from tests.factories import make_order
    order = make_order(db, scene["owner"], paid=True)  # the owner shopping elsewhere, as a consumer
    for path in (f"/api/v1/orders/{order.id}", f"/api/v1/orders/{order.id}/payments",
                 f"/api/v1/orders/{order.id}/refunds"):
        answer = client.get(path, headers=bearer(scene["token"]))
        assert answer.status_code in (403, 404), (path, answer.status_code, answer.text)
