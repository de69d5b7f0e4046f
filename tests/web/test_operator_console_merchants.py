"""The operator approves, suspends and reinstates merchants from the merchants page, through the merchants
service; a suspended merchant's stores leave the public listings; nobody else may press the buttons."""

import pytest

from daodian.merchants.models import Merchant, MerchantStatus
from tests.factories import make_merchant, make_shop, make_user
from tests.web.support import csrf_from, english, log_in


@pytest.fixture
def operator(client, db):
    user = make_user(db, name="运营", operator=True)
    log_in(client, db, user)
    return user


def _press(client, merchant_id: int, action: str):
    data = {"csrf_token": csrf_from(client, "/admin/merchants"), "next": "list"}
    return client.post(f"/admin/merchants/{merchant_id}/{action}", data=data, follow_redirects=False)


def _status(db, merchant_id: int) -> MerchantStatus:
    db.expire_all()
    return db.get(Merchant, merchant_id).status


def test_suspend_and_reinstate_from_the_merchants_page(client, db, operator):
    shop = make_shop(db, name="暂停测试店")
    page = client.get("/admin/merchants").text
    assert f'data-testid="suspend-{shop.merchant.id}"' in page
    assert shop.store.id in [s["id"] for s in client.get("/api/v1/stores", params={"limit": 1000}).json()["items"]]

    suspended = _press(client, shop.merchant.id, "suspend")
    assert suspended.status_code == 303 and _status(db, shop.merchant.id) == MerchantStatus.SUSPENDED
    page = client.get(suspended.headers["location"]).text
    assert "商户已暂停" in page and f'data-testid="merchant-row-{shop.merchant.id}"' not in page
    assert shop.store.id not in [s["id"] for s in client.get("/api/v1/stores", params={"limit": 1000}).json()["items"]]

    listed = client.get("/admin/merchants", params={"status": "suspended"}).text
    assert f'data-testid="reinstate-{shop.merchant.id}"' in listed
    assert _press(client, shop.merchant.id, "approve").status_code == 409  # suspended: only reinstated
    assert _press(client, shop.merchant.id, "suspend").status_code == 303  # a second click changes nothing
    reinstated = _press(client, shop.merchant.id, "reinstate")
    assert reinstated.status_code == 303 and _status(db, shop.merchant.id) == MerchantStatus.ACTIVE
    english(client)
    assert "Merchant reinstated." in client.get(reinstated.headers["location"]).text


def test_approve_from_the_list_goes_back_to_the_list(client, db, operator):
    pending = make_merchant(db, make_user(db), name="待批商户", status=MerchantStatus.PENDING)
    page = client.get("/admin/merchants", params={"status": "pending"}).text
    assert f'data-testid="approve-{pending.id}"' in page
    response = _press(client, pending.id, "approve")
    assert response.status_code == 303 and response.headers["location"].startswith("/admin/merchants?")
    assert _status(db, pending.id) == MerchantStatus.ACTIVE
    assert _press(client, pending.id, "approve").status_code == 303  # a second click changes nothing
    assert _press(client, pending.id, "reinstate").status_code == 303  # it is active: nothing to do
    assert _status(db, pending.id) == MerchantStatus.ACTIVE


def test_a_closed_merchant_is_not_reopened_by_a_button(client, db, operator):
    closed = make_merchant(db, make_user(db), status=MerchantStatus.CLOSED)
    assert 'data-testid="reinstate-' not in client.get("/admin/merchants", params={"status": "closed"}).text
    for action in ("reinstate", "approve", "suspend"):
        assert _press(client, closed.id, action).status_code == 409, action
    assert _status(db, closed.id) == MerchantStatus.CLOSED
    assert _press(client, 10**15, "suspend").status_code == 404


def test_staff_cannot_suspend_or_reinstate(client, db):
    shop, other = make_shop(db), make_shop(db, name="别家")
    other.merchant.status = MerchantStatus.SUSPENDED
    db.flush()
    log_in(client, db, shop.owner)
    csrf = csrf_from(client, "/merchant")
    assert client.post(f"/admin/merchants/{shop.merchant.id}/suspend", data={"csrf_token": csrf}).status_code == 403
    assert client.post(f"/admin/merchants/{other.merchant.id}/reinstate", data={"csrf_token": csrf}).status_code == 403
    assert _status(db, shop.merchant.id) == MerchantStatus.ACTIVE
    assert _status(db, other.merchant.id) == MerchantStatus.SUSPENDED
    client.cookies.clear()
    assert client.post(f"/admin/merchants/{shop.merchant.id}/suspend", data={"csrf_token": csrf}).status_code in (401, 403)
