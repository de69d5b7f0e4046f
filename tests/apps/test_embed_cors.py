"""Who may read the API from a browser page on another origin: only an app's registered web origins."""

from daodian.apps.embed import ORIGINS
from tests.apps.support import register
from tests.factories import make_user


def test_cors_only_for_the_apps_registered_origins(client, db):
    app, _ = register(db, make_user(db), origins=["https://shop.example.com"], scopes=["map:read"])
    ORIGINS.forget()
    url = f"/api/v1/catalog/product-categories?client_id={app.client_id}"

    allowed = client.get(url, headers={"Origin": "https://shop.example.com"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert "access-control-allow-credentials" not in allowed.headers

    refused = client.get(url, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_not_allowed"

    preflight = client.options(url, headers={"Origin": "https://shop.example.com",
                                             "Access-Control-Request-Method": "GET",
                                             "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204 and "Authorization" in preflight.headers["access-control-allow-headers"]
    assert client.options(url, headers={"Origin": "https://evil.example",
                                        "Access-Control-Request-Method": "GET"}).status_code == 403

    unknown = client.get("/api/v1/catalog/product-categories?client_id=ddc_nobody",
                         headers={"Origin": "https://shop.example.com"})
    assert unknown.status_code == 403
    plain = client.get("/api/v1/catalog/product-categories", headers={"Origin": "https://evil.example"})
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers  # no app named


def test_the_frame_names_the_apps_origins_as_its_only_ancestors(client, db):
    app, _ = register(db, make_user(db), origins=["https://shop.example.com", "http://localhost:5173"],
                      scopes=["map:read"])
    ORIGINS.forget()
    page = client.get("/embed/frame", params={"client_id": app.client_id, "product": 1})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors http://localhost:5173 https://shop.example.com" in policy
    assert client.get("/embed/frame", params={"client_id": "ddc_nobody", "product": 1}).status_code == 404
    script = client.get("/embed/nearby.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
