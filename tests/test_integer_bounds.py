"""Every integer a request may carry is bounded in the published schema, by the column it is stored in:
out-of-range numbers are a 422 in the error envelope on both databases, never a 500."""

import pytest

from tests.factories import auth, make_shop
from tests.marketing.group_buy_helpers import deal_body
from tests.marketing.presale_helpers import presale_body

TOO_BIG = [2**31, 2**63, 2**64]  # past PostgreSQL's int4, past int8, past anything


def _schemas(spec):
    return spec["components"]["schemas"]


def _unbounded(schema, spec, path, seen=frozenset()) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return [] if name in seen else _unbounded(_schemas(spec)[name], spec, path, seen | {name})
    found = []
    if schema.get("type") == "integer":
        has_min = "minimum" in schema or "exclusiveMinimum" in schema
        has_max = "maximum" in schema or "exclusiveMaximum" in schema
        if not (has_min and has_max):
            found.append(path)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += _unbounded(sub, spec, path, seen)
    for name, sub in (schema.get("properties") or {}).items():
        found += _unbounded(sub, spec, f"{path}.{name}", seen)
    if "items" in schema:
        found += _unbounded(schema["items"], spec, f"{path}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        found += _unbounded(schema["additionalProperties"], spec, f"{path}{{}}", seen)
    return found


def test_no_request_parameter_or_body_holds_an_unbounded_integer(client):
    spec = client.get("/openapi.json").json()
    unbounded = []
    for route, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                unbounded += _unbounded(parameter.get("schema", {}), spec, f"{method.upper()} {route} ?{parameter['name']}")
            for content in (operation.get("requestBody") or {}).get("content", {}).values():
                unbounded += _unbounded(content.get("schema", {}), spec, f"{method.upper()} {route} body")
    assert unbounded == []


@pytest.fixture
def shop(db):
    return make_shop(db, name="大数车行")


def _refused(response, *, validation: bool) -> None:
    assert 400 <= response.status_code < 500, response.text  # never a 500, whatever the database
    code = response.json()["error"]["code"]
    assert code == "validation_error" if validation else code, response.text


@pytest.mark.parametrize("number", TOO_BIG)
def test_a_huge_presale_threshold_or_deposit_is_refused(client, db, shop, number):
    manager = auth(db, shop.owner)
    url = f"/api/v1/merchants/{shop.merchant.id}/presales"
    # The threshold lives in an int4 column: anything past it is refused by the schema.
    _refused(client.post(url, json=presale_body([shop.sku.id], threshold=number), headers=manager), validation=True)
    # A deposit is int8 fen, capped at MAX_FEN: 2**31 fen is valid input that the rules refuse (above the price).
    _refused(client.post(url, json=presale_body([shop.sku.id], deposit_fen=number), headers=manager),
             validation=number > 2**62)


@pytest.mark.parametrize("number", TOO_BIG)
def test_a_huge_group_buy_item_id_is_refused(client, db, shop, number):
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/group-buys", json=deal_body(number),
                           headers=auth(db, shop.owner))
    _refused(response, validation=number > 2**53)  # ids are below 2**53: a larger one is not an id at all
