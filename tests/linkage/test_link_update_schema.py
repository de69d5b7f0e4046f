"""PATCH /admin/links/{id}: the published schema refuses exactly what the server refuses (an empty update, nulls)."""

import jsonschema_rs
import pytest

from tests.factories import auth, make_user

LINKS = "/api/v1/admin/links"


def _body_validator(client):
    spec = client.get("/openapi.json").json()
    body = spec["paths"][LINKS + "/{link_id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**body, "components": spec["components"]})


@pytest.mark.parametrize(("body", "valid"), [
    ({}, False), ({"status": None}, False), ({"strength": None}, False),
    ({"status": "live"}, True), ({"strength": 0.4}, True), ({"status": "rejected", "strength": 0.1}, True),
])
def test_schema_and_server_agree_on_link_updates(client, db, body, valid):
    operator = auth(db, make_user(db, operator=True, name="运营"))
    link_id = client.get(LINKS, headers=operator).json()["items"][0]["id"]
    response = client.patch(f"{LINKS}/{link_id}", json=body, headers=operator)
    assert _body_validator(client).is_valid(body) is valid
    assert response.status_code == (200 if valid else 422), response.text
