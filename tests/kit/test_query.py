"""One reading of query strings for the whole API (kit.api.query): unknown parameters are ignored, a
single-valued parameter given twice is refused instead of silently taking the last value."""

NEARBY = "/api/v1/stores/nearby"
WEST_LAKE = {"lat": "30.2590", "lng": "120.1490", "datum": "gcj02"}


def test_a_single_valued_parameter_given_twice_is_refused_by_name(client):
    response = client.get(f"{NEARBY}?lat=30.2590&lat=31.0&lng=120.1490&datum=gcj02")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["loc"] for d in error["details"]] == [["query", "lat"]]


def test_unknown_parameters_are_ignored_even_repeated(client):
    assert client.get(NEARBY, params={**WEST_LAKE, "utm_source": ["a", "b"]}).status_code == 200


def test_the_single_query_string_still_works(client):
    assert client.get(NEARBY, params=WEST_LAKE).status_code == 200
