from datetime import timedelta

import pytest
from sqlalchemy import func, select

from daodian.accounts.models import StaffRole
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from daodian.records.models import ConsumptionLine, ConsumptionRecord
from tests.factories import (
    add_staff,
    auth,
    make_item,
    make_merchant,
    make_product,
    make_record,
    make_store,
    make_user,
    make_voucher,
    sku_of,
)


@pytest.fixture
def shop(db):
    """A merchant with a store, a service item, a product SKU and a clerk."""
    owner = make_user(db, name="老板")
    merchant = make_merchant(db, owner)
    store = make_store(db, merchant)
    item = make_item(db, merchant, [store.id])
    sku = sku_of(db, make_product(db, merchant))
    clerk = make_user(db, name="收银员")
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    return dict(owner=owner, merchant=merchant, store=store, item=item, sku=sku, clerk=clerk)


def _sale(shop, receipt="POS1-0001", **extra) -> dict:
    body = {
        "receipt_id": receipt,
        "occurred_at": (utcnow() - timedelta(minutes=10)).isoformat(),
        "lines": [{"service_item_id": shop["item"].id, "quantity": 1, "amount_fen": 15900},
                  {"sku_id": shop["sku"].id, "quantity": 2, "amount_fen": 50000, "description": "机油 4L 两桶"}],
    }
    return {**body, **extra}


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _post(client, db, shop, body, user=None):
    return client.post(f"/api/v1/stores/{shop['store'].id}/consumption-records", json=body,
                       headers=auth(db, user or shop["clerk"]))


def test_clerk_records_an_anonymous_sale_and_its_fact(client, db, shop):
    response = _post(client, db, shop, _sale(shop))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["total_fen"] == 65900 and body["currency"] == "CNY" and body["source"] == "pos"
    assert body["identified_by"] == "none" and body["consumer_id"] is None
    assert body["recorded_by"] == shop["clerk"].id
    assert [ln["description"] for ln in body["lines"]] == ["小保养", "机油 4L 两桶"]  # catalog name, or the POS's
    fact = db.scalar(select(Fact).where(Fact.kind == "consumption.recorded"))
    assert fact.merchant_id == shop["merchant"].id and fact.store_id == shop["store"].id and fact.consumer_id is None
    assert fact.payload["total_fen"] == 65900
    assert fact.payload["lines"] == [
        {"sku_id": None, "service_item_id": shop["item"].id, "quantity": 1, "amount_fen": 15900},
        {"sku_id": shop["sku"].id, "service_item_id": None, "quantity": 2, "amount_fen": 50000},
    ]


def test_member_is_identified_only_with_consent(client, db, shop):
    consumer = make_user(db, name="小王")
    member = {"phone": f"+86 {consumer.phone[:3]}-{consumer.phone[3:7]}-{consumer.phone[7:]}"}
    without = _post(client, db, shop, _sale(shop, "R-1", member=member))
    refused = _post(client, db, shop, _sale(shop, "R-2", member=member, member_consented=False))
    agreed = _post(client, db, shop, _sale(shop, "R-3", member=member, member_consented=True))
    assert without.json()["identified_by"] == refused.json()["identified_by"] == "none"
    assert without.json()["consumer_id"] is refused.json()["consumer_id"] is None
    assert agreed.status_code == 201 and agreed.json()["identified_by"] == "phone"
    assert agreed.json()["consumer_id"] == consumer.id
    mine = client.get("/api/v1/me/consumption-records", headers=auth(db, consumer)).json()["items"]
    assert [r["receipt_id"] for r in mine] == ["R-3"] and mine[0]["review_id"] is None
    facts = db.scalars(select(Fact).where(Fact.kind == "consumption.recorded").order_by(Fact.id)).all()
    assert [f.consumer_id for f in facts] == [None, None, consumer.id]


def test_member_code_identifies_the_consumer(client, db, shop):
    consumer = make_user(db)
    code = client.get("/api/v1/me/member-code", headers=auth(db, consumer)).json()["member_code"]
    assert len(code) == 10
    assert client.get("/api/v1/me/member-code", headers=auth(db, consumer)).json()["member_code"] == code  # stable
    typed = f"{code[:5].lower()}-{code[5:]}"  # read aloud and typed in by the clerk
    response = _post(client, db, shop, _sale(shop, member={"member_code": typed}, member_consented=True))
    assert response.status_code == 201, response.text
    assert response.json()["identified_by"] == "member_code" and response.json()["consumer_id"] == consumer.id


def test_an_unknown_member_is_refused_and_nothing_is_stored(client, db, shop):
    response = _post(client, db, shop, _sale(shop, member={"phone": "13000000000"}, member_consented=True))
    assert response.status_code == 422 and response.json()["error"]["code"] == "member_not_found"
    assert _count(db, ConsumptionRecord) == 0


def test_a_voucher_of_this_merchant_identifies_its_holder(client, db, shop, settings):
    consumer = make_user(db)
    voucher = make_voucher(db, settings, consumer, shop["item"], shop["store"])
    typed = f"{voucher.code[:4].lower()} {voucher.code[4:]}"
    response = _post(client, db, shop, _sale(shop, "V-1", member={"voucher_code": typed}, member_consented=True))
    assert response.status_code == 201, response.text
    assert response.json()["identified_by"] == "voucher" and response.json()["consumer_id"] == consumer.id
    assert db.get(ConsumptionRecord, response.json()["id"]).voucher_id == voucher.id
    other = make_merchant(db, make_user(db))
    other_store = make_store(db, other)
    foreign = make_voucher(db, settings, consumer, make_item(db, other, [other_store.id]), other_store)
    for code in (foreign.code, "0000-0000-0000-00000"):
        refused = _post(client, db, shop, _sale(shop, "V-2", member={"voucher_code": code}, member_consented=True))
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "member_not_found"


def test_same_receipt_and_content_returns_the_stored_record(client, db, shop):
    body = _sale(shop)
    first, again = _post(client, db, shop, body), _post(client, db, shop, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert _count(db, ConsumptionRecord) == 1 and _count(db, ConsumptionLine) == 2
    assert db.scalar(select(func.count()).select_from(Fact).where(Fact.kind == "consumption.recorded")) == 1


def test_same_receipt_with_other_content_conflicts(client, db, shop):
    body = _sale(shop)
    assert _post(client, db, shop, body).status_code == 201
    changed = {**body, "lines": [{**body["lines"][0], "amount_fen": 1}]}
    response = _post(client, db, shop, changed)
    assert response.status_code == 409 and response.json()["error"]["code"] == "receipt_conflict"
    assert _count(db, ConsumptionRecord) == 1


def test_receipt_ids_are_per_merchant(client, db, shop):
    other_owner = make_user(db)
    other = make_merchant(db, other_owner)
    other_store = make_store(db, other)
    other_item = make_item(db, other, [other_store.id])
    assert _post(client, db, shop, _sale(shop, "SAME-1")).status_code == 201
    response = client.post(f"/api/v1/stores/{other_store.id}/consumption-records", headers=auth(db, other_owner),
                           json=_sale(shop, "SAME-1", lines=[{"service_item_id": other_item.id, "amount_fen": 100}]))
    assert response.status_code == 201, response.text


def test_lines_must_be_the_merchants_own(client, db, shop):
    other = make_merchant(db, make_user(db))
    foreign_sku = sku_of(db, make_product(db, other))
    lines = [{"service_item_id": shop["item"].id, "amount_fen": 100}, {"sku_id": foreign_sku.id, "amount_fen": 100},
             {"service_item_id": 999_999_999, "amount_fen": 100}]
    response = _post(client, db, shop, _sale(shop, lines=lines))
    assert response.status_code == 422
    assert response.json()["error"] == {"code": "line_not_of_merchant", "message": response.json()["error"]["message"],
                                        "details": {"lines": [1, 2]}}
    assert _count(db, ConsumptionRecord) == 0


@pytest.mark.parametrize("change", [
    {"lines": []},
    {"lines": [{"amount_fen": 100}]},
    {"lines": [{"sku_id": 1, "service_item_id": 1, "amount_fen": 100}]},
    {"lines": [{"service_item_id": 1, "quantity": 0, "amount_fen": 100}]},
    {"lines": [{"service_item_id": 1, "amount_fen": -1}]},
    {"lines": [{"service_item_id": 1, "amount_fen": "100"}]},
    {"occurred_at": "2024-05-01T12:00:00"},
    {"occurred_at": "9999-12-31T23:59:59-12:00"},
    {"occurred_at": 1714550400},
    {"receipt_id": "has space"},
    {"receipt_id": ""},
    {"member": {"phone": "13800138000", "member_code": "ABCD1234"}, "member_consented": True},
    {"member": {}},
    {"member_consented": "yes"},
])
def test_bad_input_is_a_422(client, db, shop, change):
    response = _post(client, db, shop, _sale(shop, **change))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


def test_a_sale_in_the_future_is_refused(client, db, shop):
    response = _post(client, db, shop, _sale(shop, occurred_at=(utcnow() + timedelta(hours=1)).isoformat()))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert "future" in response.json()["error"]["message"]
    skewed = _post(client, db, shop, _sale(shop, occurred_at=(utcnow() + timedelta(minutes=2)).isoformat()))
    assert skewed.status_code == 201  # a POS clock a little ahead


def test_others_may_not_record_and_nothing_changes(client, db, shop):
    other = make_merchant(db, make_user(db))
    stranger_clerk = make_user(db)
    add_staff(db, other, stranger_clerk, StaffRole.CLERK)
    consumer = make_user(db)
    store_url = f"/api/v1/stores/{shop['store'].id}/consumption-records"
    assert client.post(store_url, json=_sale(shop)).status_code == 401
    for user in (stranger_clerk, consumer):
        response = _post(client, db, shop, _sale(shop), user=user)
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert client.post("/api/v1/stores/999999999/consumption-records", json=_sale(shop),
                       headers=auth(db, shop["clerk"])).status_code == 404
    assert _count(db, ConsumptionRecord) == 0 and _count(db, Fact) == 0


def test_merchant_lists_its_records_newest_first(client, db, shop):
    consumer = make_user(db)
    for _ in range(3):
        make_record(db, shop["store"], shop["clerk"], consumer=consumer)
    url = f"/api/v1/merchants/{shop['merchant'].id}/consumption-records"
    first = client.get(url, params={"limit": 2}, headers=auth(db, shop["clerk"])).json()
    rest = client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(db, shop["clerk"])).json()
    ids = [r["id"] for r in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3 and rest["next_cursor"] is None
    assert first["items"][0]["consumer_id"] == consumer.id
    assert client.get(url, params={"store_id": 999_999}, headers=auth(db, shop["owner"])).json()["items"] == []
    assert client.get(url, headers=auth(db, consumer)).status_code == 403
    assert client.get(url).status_code == 401
