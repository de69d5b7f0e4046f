"""List endpoints page with an opaque keyset cursor and a page size the server caps."""

import pytest

from daodian.kit.api import pagination
from daodian.kit.settings import Settings
from tests.factories import make_merchant, make_user


@pytest.fixture
def merchants(db):
    owner = make_user(db)
    return [make_merchant(db, owner, name=f"商户{i}") for i in range(7)]


def test_the_cursor_walks_every_row_exactly_once(api, merchants):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/merchants", params=params).json()
        seen += [m["id"] for m in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(m.id for m in merchants) and pages == 3


def test_a_limit_above_the_cap_is_capped(api, merchants, monkeypatch):
    monkeypatch.setattr(pagination, "get_settings", lambda: Settings(env="test", page_size_max=4))
    page = api.get("/api/v1/merchants", params={"limit": 1000}).json()
    assert len(page["items"]) == 4 and page["next_cursor"] == str(page["items"][-1]["id"])


@pytest.mark.parametrize("limit", [0, -1, 1001, "many"])
def test_an_impossible_limit_is_refused(api, limit):
    assert api.get("/api/v1/merchants", params={"limit": limit}).status_code == 422


@pytest.mark.parametrize("cursor", ["abc", "", "-1", "1e5", "١٢", "1" * 19, "12 ", "0x10"])
def test_a_junk_cursor_is_invalid_cursor(api, cursor):
    response = api.get("/api/v1/stores", params={"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_the_last_page_has_no_cursor(api, merchants):
    page = api.get("/api/v1/merchants", params={"limit": 7}).json()
    assert len(page["items"]) == 7 and page["next_cursor"] is None
