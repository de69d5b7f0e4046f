"""The published schema states what the server does: the Allow header of every path, and the rules between
fields that JSON Schema cannot express (both lat and lng or neither; closes after opens) are documented
with the answer a client gets."""

import pytest

from tests.support.shared_app import shared_app

OPENAPI = shared_app().app.openapi()
METHODS = ("get", "put", "post", "delete", "patch")


def _concrete(path: str, spec: dict) -> str | None:
    """The path with every (integer) path parameter set to 17; None if a parameter is not an integer."""
    params = {p["name"]: p["schema"] for op in spec.values() if isinstance(op, dict)
              for p in op.get("parameters", []) if p["in"] == "path"}
    for name, schema in params.items():
        if schema.get("type") != "integer":
            return None
        path = path.replace(f"{{{name}}}", "17")
    return path


PATHS = sorted((path, _concrete(path, spec), {m.upper() for m in spec if m in METHODS})
               for path, spec in OPENAPI["paths"].items() if path.startswith("/api/v1/"))


@pytest.mark.parametrize("path, url, documented", [p for p in PATHS if p[1]], ids=[p[0] for p in PATHS if p[1]])
def test_options_answers_405_with_the_methods_the_schema_documents(api, path, url, documented):
    response = api.options(url)
    assert response.status_code == 405, response.text
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed == documented, f"{url}: Allow {sorted(allowed)} but the schema documents {sorted(documented)}"


def test_a_literal_segment_beside_a_typed_parameter_is_not_the_parameter(api):
    """`/tiers/summary` also matches `/tiers/{tier_id}` as text; that route would answer 422, so its
    methods are not this path's."""
    response = api.options("/api/v1/merchants/17/tiers/summary")
    assert response.status_code == 405 and response.headers["Allow"] == "GET"


def test_lat_without_lng_is_a_documented_422(api):
    params = {p["name"]: p for p in OPENAPI["paths"]["/api/v1/search"]["get"]["parameters"]}
    for name, other in (("lat", "lng"), ("lng", "lat")):
        assert f"together with {other}" in params[name]["description"]
        assert "location_incomplete" in params[name]["description"]
    response = api.get("/api/v1/search", params={"q": "0", "lat": "-90", "datum": "wgs84"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "location_incomplete"
    assert response.json()["error"]["details"] == {"missing": "lng"}


def test_the_hours_rules_are_in_the_schema(api, db):
    operation = OPENAPI["paths"]["/api/v1/stores/{store_id}/hours"]["put"]
    documented = operation["responses"]["422"]["description"]
    assert "`closes` after `opens`" in documented and "next_day" in documented
    interval = OPENAPI["components"]["schemas"]["HoursInterval"]["description"]
    assert "opens equal to closes is no interval" in interval
