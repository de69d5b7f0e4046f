"""A consumer's side of the privacy guard, over HTTP: consent with time and scope, the member list that shows
only consenting members, `GET /api/v1/me/export`, and deleting the account (personal data gone, ledgers and
facts kept under the bare account id so that totals still reconcile)."""

import json
import uuid
from datetime import datetime

import pyarrow.dataset as ds
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from daodian.accounts.models import User
from daodian.analytics.export import export_facts
from daodian.analytics.service import MERCHANT_REPORTS
from daodian.app import create_app
from daodian.kit.db import Base
from daodian.kit.facts import Fact
from daodian.kit.settings import get_settings
from daodian.orders import service as orders
from daodian.orders.models import Order
from daodian.orders.schemas import OrderCreate, OrderLineIn
from daodian.records.reviews import create_review
from daodian.records.schemas import ReviewCreate
from tests.factories import auth, make_record, make_shop, make_user, pay_order, principal_of


@pytest.fixture
def api(analytics_settings, session_factory):
    with TestClient(create_app(analytics_settings, session_factory=session_factory),
                    raise_server_exceptions=False) as client:
        yield client


def _unique(label: str) -> str:
    return f"{label}{uuid.uuid4().hex[:8]}"


def test_consent_is_recorded_with_time_and_scope_and_can_be_withdrawn(api, db):
    shop = make_shop(db)
    consumer = make_user(db)
    headers = auth(db, consumer)
    url = f"/api/v1/me/consents/{shop.merchant.id}"
    granted = api.post(url, headers=headers)
    assert granted.status_code == 201
    body = granted.json()
    assert body["scope"] == "identity" and body["source"] == "api" and body["withdrawn_at"] is None
    assert datetime.fromisoformat(body["granted_at"]).tzinfo is not None
    assert api.post(url, headers=headers).status_code == 200  # idempotent: the same live consent
    assert api.post(url, headers=headers, params={"scope": "everything"}).status_code == 422
    assert api.post("/api/v1/me/consents/999999999", headers=headers).status_code == 404
    assert api.delete(url, headers=headers).status_code == 204
    history = api.get("/api/v1/me/consents", headers=headers).json()
    assert len(history) == 1 and history[0]["withdrawn_at"] is not None  # the record stays, stamped
    assert api.post(url, headers=headers).status_code == 201  # granting again: a new row
    assert len(api.get("/api/v1/me/consents", headers=headers).json()) == 2
    assert api.get("/api/v1/me/consents").status_code == 401


def test_a_non_consenting_member_appears_in_no_merchant_export(api, db, session_factory, facts_dir):
    shop = make_shop(db)
    yes, no = make_user(db, name=_unique("同意")), make_user(db, name=_unique("不同意"))
    for consumer in (yes, no):
        make_record(db, shop.store, shop.clerk, consumer=consumer)
        make_record(db, shop.store, shop.clerk, consumer=consumer)
    assert api.post(f"/api/v1/me/consents/{shop.merchant.id}", headers=auth(db, yes)).status_code == 201
    export_facts(session_factory, facts_dir)
    owner = auth(db, shop.owner)

    members = api.get(f"/api/v1/merchants/{shop.merchant.id}/members", headers=owner).json()
    assert [r["consumer_id"] for r in members["rows"]] == [yes.id]
    assert members["rows"][0]["phone"] == yes.phone and members["rows"][0]["consented_at"]
    assert members["notes"]["others"] is None and members["notes"]["others_suppressed"]  # 1 other < k

    texts = [api.get(f"/api/v1/merchants/{shop.merchant.id}/members", headers=owner, params={"format": "csv"}).text]
    texts += [api.get(f"/api/v1/merchants/{shop.merchant.id}/analytics/{name}", headers=owner,
                      params={"format": fmt}).text for name in MERCHANT_REPORTS for fmt in ("json", "csv")]
    assert yes.phone in texts[0]
    for text in texts:
        assert no.phone not in text and no.display_name not in text
        assert f'"consumer_id":{no.id}' not in text.replace(" ", "")

    # Withdrawing takes the member off the list at once.
    assert api.delete(f"/api/v1/me/consents/{shop.merchant.id}", headers=auth(db, yes)).status_code == 204
    assert api.get(f"/api/v1/merchants/{shop.merchant.id}/members", headers=owner).json()["rows"] == []
    # Another merchant's staff get nothing at all.
    stranger = auth(db, make_shop(db).owner)
    assert api.get(f"/api/v1/merchants/{shop.merchant.id}/members", headers=stranger).status_code in (403, 404)


def _personal_world(db):
    shop = make_shop(db)
    consumer = make_user(db, name=_unique("张三"))
    note, street, words = _unique("note"), _unique("西湖路"), _unique("服务很好")
    record = make_record(db, shop.store, shop.clerk, consumer=consumer)
    order = orders.create_order(db, principal_of(db, consumer), OrderCreate(
        lines=[OrderLineIn(sku_id=shop.sku.id, quantity=1)], fulfilment="pickup", store_id=shop.store.id),
        get_settings())
    order.note, order.delivery_address = note, {"name": consumer.display_name, "line": street, "phone": consumer.phone}
    db.flush()
    pay_order(db, order)
    create_review(db, principal_of(db, consumer), ReviewCreate(record_id=record.id, rating_experience=5,
                                                               rating_service=4, text=words))
    return shop, consumer, order, [consumer.phone, consumer.display_name, note, street, words]


def test_my_export_holds_my_data_and_nobody_elses(api, db):
    shop, consumer, order, personal = _personal_world(db)
    other = make_user(db, name=_unique("李四"))
    make_record(db, shop.store, shop.clerk, consumer=other)
    response = api.get("/api/v1/me/export", headers=auth(db, consumer))
    assert response.status_code == 200
    data = response.json()
    text = json.dumps(data, ensure_ascii=False)
    assert data["account_id"] == consumer.id and all(value in text for value in personal)
    tables = data["tables"]
    assert {"users", "orders", "order_lines", "payments", "consumption_records", "reviews", "facts"} <= set(tables)
    assert [o["id"] for o in tables["orders"]] == [order.id]
    assert {f["consumer_id"] for f in tables["facts"]} == {consumer.id}
    assert "password_hash" not in text and "token_hash" not in text
    assert other.phone not in text and other.display_name not in text
    assert api.get("/api/v1/me/export").status_code == 401


def _everything(db) -> str:
    """Every value of every row of every table, as text."""
    out = []
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)):
            out.append(json.dumps([v if isinstance(v, (dict, list)) else str(v) for v in row], ensure_ascii=False))
    return "\n".join(out)


def test_after_deletion_no_personal_value_remains_and_totals_reconcile(api, db, session_factory, facts_dir):
    shop, consumer, order, personal = _personal_world(db)
    headers = auth(db, consumer)
    before = _everything(db)
    assert all(value in before for value in personal), "the scan can see each value while it exists"
    facts_before = db.scalar(select(func.count()).select_from(Fact).where(Fact.consumer_id == consumer.id))
    paid_before = db.scalar(select(Order.paid_fen).where(Order.id == order.id))

    assert api.delete("/api/v1/me", headers=headers).status_code == 204
    db.expire_all()
    after = _everything(db)
    leaks = [value for value in personal if value in after]
    assert leaks == []
    user = db.get(User, consumer.id)
    assert user.phone == f"deleted-{consumer.id}" and not user.is_active
    assert api.get("/api/v1/me/export", headers=headers).status_code == 401  # sessions ended

    # Ledgers and facts stay, under the bare account id: totals still reconcile.
    assert db.scalar(select(func.count()).select_from(Fact).where(Fact.consumer_id == consumer.id)) == facts_before
    assert db.scalar(select(Order.paid_fen).where(Order.id == order.id)) == paid_before > 0
    export_facts(session_factory, facts_dir)
    exported = ds.dataset(facts_dir / "facts", format="parquet", partitioning="hive").to_table().to_pylist()
    mine = [r for r in exported if r["consumer_id"] == consumer.id]
    assert len(mine) == facts_before
    assert not [value for value in personal if any(value in (r["payload"] or "") for r in exported)]
