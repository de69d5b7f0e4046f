"""Merchant sign-up, approval, visibility and staff."""

import pytest

from tests.factories import add_staff, auth, make_merchant, make_user


@pytest.fixture
def signed_up(api, db):
    owner = make_user(db, name="老王")
    response = api.post("/api/v1/merchants", json={"name": " 老王汽修 ", "phone": "0571-8888 8888"},
                        headers=auth(db, owner))
    assert response.status_code == 201, response.text
    return owner, response.json()


def test_sign_up_is_pending_and_makes_the_caller_owner(api, db, signed_up):
    owner, merchant = signed_up
    assert merchant["status"] == "pending" and merchant["name"] == "老王汽修"
    me = api.get("/api/v1/me", headers=auth(db, owner)).json()
    assert me["memberships"] == [{"merchant_id": merchant["id"], "role": "owner"}]


def test_a_pending_merchant_is_visible_only_to_its_staff_and_operators(api, db, signed_up):
    owner, merchant = signed_up
    url = f"/api/v1/merchants/{merchant['id']}"
    hidden = api.get(url)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "merchant_not_found"
    assert api.get(url, headers=auth(db, make_user(db))).status_code == 404
    assert merchant["id"] not in [m["id"] for m in api.get("/api/v1/merchants").json()["items"]]
    assert api.get(url, headers=auth(db, owner)).status_code == 200
    assert api.get(url, headers=auth(db, make_user(db, operator=True))).status_code == 200


def test_the_operator_approves_and_the_merchant_is_listed(api, db, signed_up):
    _, merchant = signed_up
    operator = auth(db, make_user(db, operator=True))
    pending = api.get("/api/v1/merchants", params={"status": "pending"}, headers=operator).json()["items"]
    assert merchant["id"] in [m["id"] for m in pending]
    approved = api.patch(f"/api/v1/merchants/{merchant['id']}", json={"status": "active"}, headers=operator)
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert api.get(f"/api/v1/merchants/{merchant['id']}").status_code == 200
    assert merchant["id"] in [m["id"] for m in api.get("/api/v1/merchants").json()["items"]]


def test_owners_may_not_approve_themselves_or_list_pending_ones(api, db, signed_up):
    owner, merchant = signed_up
    response = api.patch(f"/api/v1/merchants/{merchant['id']}", json={"status": "active"}, headers=auth(db, owner))
    assert response.status_code == 403 and response.json()["error"]["code"] == "status_change_forbidden"
    listed = api.get("/api/v1/merchants", params={"status": "pending"}, headers=auth(db, owner))
    assert listed.status_code == 403


def test_owners_edit_and_close_their_merchant(api, db):
    owner = make_user(db)
    merchant = make_merchant(db, owner)
    headers = auth(db, owner)
    edited = api.patch(f"/api/v1/merchants/{merchant.id}", json={"description": "专业换油", "phone": None},
                       headers=headers)
    assert edited.status_code == 200 and edited.json()["description"] == "专业换油"
    assert api.delete(f"/api/v1/merchants/{merchant.id}", headers=headers).status_code == 204
    assert api.get(f"/api/v1/merchants/{merchant.id}").status_code == 404
    assert api.get(f"/api/v1/merchants/{merchant.id}", headers=headers).json()["status"] == "closed"


@pytest.fixture
def shop(db):
    owner, newcomer = make_user(db, name="老板"), make_user(db, name="新店员", phone="13722223333")
    return owner, newcomer, make_merchant(db, owner)


def test_the_owner_adds_changes_and_removes_staff(api, db, shop):
    owner, newcomer, merchant = shop
    headers, url = auth(db, owner), f"/api/v1/merchants/{merchant.id}/staff"
    added = api.post(url, json={"phone": "+86 137 2222 3333", "role": "clerk"}, headers=headers)
    assert added.status_code == 201 and added.json() == {
        "user_id": newcomer.id, "display_name": "新店员", "phone": "13722223333", "role": "clerk"}
    assert api.post(url, json={"phone": "13722223333", "role": "manager"}, headers=headers).json()["role"] == "manager"
    assert {s["role"] for s in api.get(url, headers=headers).json()} == {"owner", "manager"}
    assert api.delete(f"{url}/{newcomer.id}", headers=headers).status_code == 204
    assert [s["user_id"] for s in api.get(url, headers=headers).json()] == [owner.id]


def test_staff_must_have_an_account_and_be_on_the_staff(api, db, shop):
    owner, newcomer, merchant = shop
    headers, url = auth(db, owner), f"/api/v1/merchants/{merchant.id}/staff"
    unknown = api.post(url, json={"phone": "13100000000", "role": "clerk"}, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "user_not_found"
    assert api.delete(f"{url}/{newcomer.id}", headers=headers).status_code == 404
    assert api.post(url, json={"phone": "13722223333", "role": "boss"}, headers=headers).status_code == 422


def test_the_last_owner_cannot_leave_or_be_demoted(api, db, shop):
    owner, newcomer, merchant = shop
    headers, url = auth(db, owner), f"/api/v1/merchants/{merchant.id}/staff"
    removed = api.delete(f"{url}/{owner.id}", headers=headers)
    assert removed.status_code == 409 and removed.json()["error"]["code"] == "last_owner"
    demoted = api.post(url, json={"phone": owner.phone, "role": "manager"}, headers=headers)
    assert demoted.status_code == 409 and demoted.json()["error"]["code"] == "last_owner"
    add_staff(db, merchant, newcomer, "owner")
    assert api.delete(f"{url}/{owner.id}", headers=headers).status_code == 204


def test_managers_may_not_manage_staff(api, db, shop):
    owner, newcomer, merchant = shop
    add_staff(db, merchant, newcomer, "manager")
    response = api.post(f"/api/v1/merchants/{merchant.id}/staff", json={"phone": owner.phone, "role": "clerk"},
                        headers=auth(db, newcomer))
    assert response.status_code == 403
