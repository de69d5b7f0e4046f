"""Security headers (kit.html.security_headers): pages say what may run, frame and use the camera; the API is not
sniffed; HSTS behind HTTPS only."""

import re
from pathlib import Path

from fastapi.testclient import TestClient

from daodian.app import create_app
from tests.factories import make_shop
from tests.web.support import log_in

NONCE = re.compile(r'<script nonce="([^"]+)">')


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";")) if part}


def test_every_page_gets_the_headers_and_no_page_may_be_framed(client):
    for path in ("/", "/login", "/merchant", "/no-such-page"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        csp = _csp(response)
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'", path
        assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"], path
        assert "camera=()" in response.headers["permissions-policy"], path
        assert "strict-transport-security" not in response.headers  # plain HTTP here


def test_the_counter_screen_may_use_the_camera_and_its_inline_script_carries_the_policys_nonce(client, db):
    shop = make_shop(db)
    log_in(client, db, shop.clerk)
    screen = client.get(f"/merchant/counter/{shop.store.id}/verify")
    assert screen.status_code == 200
    assert "camera=(self)" in screen.headers["permissions-policy"]
    nonces = NONCE.findall(screen.text)
    assert nonces and set(nonces) == {nonces[0]}
    assert f"'nonce-{nonces[0]}'" in _csp(screen)["script-src"]
    assert NONCE.findall(client.get(f"/merchant/counter/{shop.store.id}/verify").text) != nonces  # fresh each time


def test_no_inline_event_handlers_or_unnonced_inline_scripts_are_left_in_the_templates():
    templates = Path(__file__).resolve().parents[2] / "src" / "daodian" / "web" / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+=\"", text), template.name
        for tag in re.findall(r"<script[^>]*>", text):
            assert "src=" in tag or "nonce=" in tag or 'type="application/json"' in tag, (template.name, tag)


def test_the_api_is_not_sniffed_and_carries_no_page_policy(client):
    response = client.get("/api/v1/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


def test_hsts_when_cookies_are_secure(settings, session_factory):
    app = create_app(settings.model_copy(update={"cookie_secure": True}), session_factory)
    with TestClient(app) as client:
        assert client.get("/login").headers["strict-transport-security"].startswith("max-age=")
