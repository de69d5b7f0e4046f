from datetime import timedelta

import pytest
from sqlalchemy import func, select

from daodian.accounts.models import StaffRole
from daodian.kit.facts import Fact
from daodian.kit.freshness import Freshness
from daodian.merchants.models import Store
from daodian.records.models import Review
from daodian.records.schemas import ConsumptionLineIn
from daodian.vouchers import counter
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
    principal_of,
    sku_of,
    verify_voucher,
)


@pytest.fixture
def shop(db):
    owner = make_user(db, name="老板")
    merchant = make_merchant(db, owner)
    store = make_store(db, merchant)
    item = make_item(db, merchant, [store.id])
    clerk, manager = make_user(db, name="收银员"), make_user(db, name="店长")
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    add_staff(db, merchant, manager, StaffRole.MANAGER)
    store.rating_avg, store.rating_count = 4.0, 10  # as imported (e.g. Yelp stars): the prior
    db.flush()
    return dict(owner=owner, merchant=merchant, store=store, item=item, clerk=clerk, manager=manager)


def _review(record_id, experience=5, service=4, product=None, text="换油很快，师傅专业") -> dict:
    body = {"record_id": record_id, "rating_experience": experience, "rating_service": service, "text": text}
    return body if product is None else {**body, "rating_product": product}


def _store(db, store_id) -> Store:
    db.expire_all()
    return db.get(Store, store_id)


def test_a_consumer_reviews_their_visit_and_the_store_rating_moves(client, db, shop):
    consumer = make_user(db, name="小王")
    record = make_record(db, shop["store"], shop["clerk"], consumer=consumer)
    before = _store(db, shop["store"].id).updated_at
    response = client.post("/api/v1/reviews", json=_review(record.id, experience=5), headers=auth(db, consumer))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["basis"] == "record" and body["author_name"] == "小王" and body["rating_product"] is None
    store = _store(db, shop["store"].id)
    assert store.rating_count == 11 and store.rating_avg == pytest.approx((4.0 * 10 + 5) / 11)
    assert store.updated_at > before  # what the nearby index polls
    fact = db.scalar(select(Fact).where(Fact.kind == "review.created"))
    assert fact.consumer_id == consumer.id and fact.store_id == store.id
    assert fact.payload["rating_experience"] == 5 and "text" not in fact.payload
    mine = client.get("/api/v1/me/consumption-records", headers=auth(db, consumer)).json()["items"]
    assert mine[0]["review_id"] == body["id"]


def test_the_nearby_poll_sees_the_new_rating(client, db, shop):
    consumer = make_user(db)
    record = make_record(db, shop["store"], shop["clerk"], consumer=consumer)
    freshness = Freshness(overlap=timedelta(0))
    freshness.start_from(_store(db, shop["store"].id).updated_at)
    seen = []

    def changed_since(session, since):  # as the nearby index reads: columns, not cached ORM objects
        return session.execute(select(Store.id, Store.rating_count, Store.updated_at)
                               .where(Store.updated_at > since)).all()

    client.post("/api/v1/reviews", json=_review(record.id, experience=1), headers=auth(db, consumer))
    freshness.poll(db, changed_since, seen.extend, lambda s: s.updated_at, force=True)
    assert [(s.id, s.rating_count) for s in seen] == [(shop["store"].id, 11)]


def test_only_a_visit_of_ones_own_can_be_reviewed(client, db, shop):
    consumer, other = make_user(db), make_user(db)
    theirs = make_record(db, shop["store"], shop["clerk"], consumer=other)
    anonymous = make_record(db, shop["store"], shop["clerk"])
    for record_id in (theirs.id, anonymous.id, 999_999_999):
        response = client.post("/api/v1/reviews", json=_review(record_id), headers=auth(db, consumer))
        assert response.status_code == 404 and response.json()["error"]["code"] == "review_basis_not_found"
    assert client.post("/api/v1/reviews", json=_review(theirs.id)).status_code == 401
    assert _store(db, shop["store"].id).rating_count == 10


def test_one_review_per_visit(client, db, shop):
    consumer = make_user(db)
    record = make_record(db, shop["store"], shop["clerk"], consumer=consumer)
    assert client.post("/api/v1/reviews", json=_review(record.id), headers=auth(db, consumer)).status_code == 201
    again = client.post("/api/v1/reviews", json=_review(record.id, experience=1), headers=auth(db, consumer))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"
    assert _store(db, shop["store"].id).rating_count == 11
    assert db.scalar(select(func.count()).select_from(Review)) == 1


@pytest.mark.parametrize("change", [
    {"rating_experience": 0}, {"rating_experience": 6}, {"rating_service": "5"}, {"rating_service": 4.5},
    {"rating_product": 7}, {"rating_experience": None}, {"text": "好" * 2001}, {"record_id": None},
    {"verification_id": 1}, {"text": "nul\u0000"},
])
def test_ratings_are_1_to_5_and_the_basis_is_one(client, db, shop, change):
    consumer = make_user(db)
    record = make_record(db, shop["store"], shop["clerk"], consumer=consumer)
    response = client.post("/api/v1/reviews", json={**_review(record.id), **change}, headers=auth(db, consumer))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_a_product_rating_is_required_when_products_were_bought(client, db, shop):
    consumer = make_user(db)
    sku = sku_of(db, make_product(db, shop["merchant"]))
    record = make_record(db, shop["store"], shop["clerk"], consumer=consumer,
                         lines=[ConsumptionLineIn(sku_id=sku.id, amount_fen=29900)])
    missing = client.post("/api/v1/reviews", json=_review(record.id), headers=auth(db, consumer))
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "product_rating_required"
    given = client.post("/api/v1/reviews", json=_review(record.id, product=3), headers=auth(db, consumer))
    assert given.status_code == 201 and given.json()["rating_product"] == 3


def test_staff_cannot_review_their_own_merchant(client, db, shop):
    record = make_record(db, shop["store"], shop["clerk"], consumer=shop["clerk"])
    response = client.post("/api/v1/reviews", json=_review(record.id), headers=auth(db, shop["clerk"]))
    assert response.status_code == 403 and response.json()["error"]["code"] == "staff_cannot_review"


def test_a_verified_voucher_is_a_basis_too(client, db, shop, settings):
    consumer, other = make_user(db), make_user(db)
    voucher = make_voucher(db, settings, consumer, shop["item"], shop["store"])
    verification = verify_voucher(db, settings, voucher, shop["store"], shop["clerk"])
    body = {"verification_id": verification.id, "rating_experience": 2, "rating_service": 3}
    assert client.post("/api/v1/reviews", json=body, headers=auth(db, other)).status_code == 404
    response = client.post("/api/v1/reviews", json=body, headers=auth(db, consumer))
    assert response.status_code == 201, response.text
    assert response.json()["basis"] == "verification" and response.json()["store_id"] == shop["store"].id
    again = client.post("/api/v1/reviews", json=body, headers=auth(db, consumer))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"
    store = _store(db, shop["store"].id)
    assert store.rating_count == 11 and store.rating_avg == pytest.approx((40 + 2) / 11)
    fact = db.scalar(select(Fact).where(Fact.kind == "review.created"))
    assert fact.payload["basis"] == "verification" and fact.payload["verification_id"] == verification.id


def test_a_reversed_verification_is_no_basis(client, db, shop, settings):
    consumer = make_user(db)
    voucher = make_voucher(db, settings, consumer, shop["item"], shop["store"])
    verification = verify_voucher(db, settings, voucher, shop["store"], shop["clerk"])
    counter.reverse(db, principal_of(db, shop["manager"]), verification.id, settings)
    body = {"verification_id": verification.id, "rating_experience": 5, "rating_service": 5}
    response = client.post("/api/v1/reviews", json=body, headers=auth(db, consumer))
    assert response.status_code == 404 and response.json()["error"]["code"] == "review_basis_not_found"


def test_the_merchant_replies(client, db, shop):
    consumer = make_user(db)
    record = make_record(db, shop["store"], shop["clerk"], consumer=consumer)
    review_id = client.post("/api/v1/reviews", json=_review(record.id), headers=auth(db, consumer)).json()["id"]
    url = f"/api/v1/reviews/{review_id}/reply"
    outsider = make_user(db)
    make_merchant(db, outsider)
    for user in (shop["clerk"], outsider, consumer):
        assert client.post(url, json={"text": "谢谢"}, headers=auth(db, user)).status_code == 403
    assert client.post(url, json={"text": "   "}, headers=auth(db, shop["manager"])).status_code == 422
    replied = client.post(url, json={"text": "谢谢惠顾，欢迎再来"}, headers=auth(db, shop["manager"]))
    assert replied.status_code == 200 and replied.json()["merchant_reply"] == "谢谢惠顾，欢迎再来"
    listed = client.get(f"/api/v1/stores/{shop['store'].id}/reviews").json()["items"]
    assert listed[0]["merchant_reply"] == "谢谢惠顾，欢迎再来" and listed[0]["replied_at"]
    assert db.scalar(select(Fact).where(Fact.kind == "review.replied")).payload["review_id"] == review_id
    assert client.post("/api/v1/reviews/999999999/reply", json={"text": "x"},
                       headers=auth(db, shop["manager"])).status_code == 404


def test_public_list_is_newest_first_and_hidden_reviews_leave_the_rating(client, db, shop):
    ids = []
    for experience in (5, 1, 3):
        consumer = make_user(db)
        record = make_record(db, shop["store"], shop["clerk"], consumer=consumer)
        ids.append(client.post("/api/v1/reviews", json=_review(record.id, experience=experience),
                               headers=auth(db, consumer)).json()["id"])
    url = f"/api/v1/stores/{shop['store'].id}/reviews"
    page = client.get(url, params={"limit": 2}).json()
    rest = client.get(url, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [r["id"] for r in page["items"] + rest["items"]] == ids[::-1]
    assert client.post(f"/api/v1/reviews/{ids[1]}/hide", headers=auth(db, shop["owner"])).status_code == 403
    operator = make_user(db, operator=True)
    for _ in range(2):  # hiding twice changes nothing more
        hidden = client.post(f"/api/v1/reviews/{ids[1]}/hide", headers=auth(db, operator))
        assert hidden.status_code == 200 and hidden.json()["status"] == "hidden"
    assert [r["id"] for r in client.get(url).json()["items"]] == [ids[2], ids[0]]
    store = _store(db, shop["store"].id)
    assert store.rating_count == 12 and store.rating_avg == pytest.approx((40 + 5 + 3) / 12)
    assert client.get("/api/v1/stores/999999999/reviews").status_code == 404
