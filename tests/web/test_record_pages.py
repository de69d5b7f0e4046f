"""The POS record screen (an offline sale, a member only with consent, once per receipt), my visits and the
review form (only for one's own verified visit, once)."""

import re

import pytest
from sqlalchemy import func, select

from daodian.merchants.models import Store
from daodian.records.models import ConsumptionRecord, RecordSource, Review
from tests.factories import make_shop, make_user, make_voucher, verify_voucher
from tests.web.support import csrf_from, english, log_in

RECEIPT = re.compile(r'name="receipt_id" value="([^"]+)"')


@pytest.fixture
def shop(db):
    return make_shop(db, name="老王车行")


@pytest.fixture
def consumer(db):
    return make_user(db, name="小李")


def _pos_form(client, shop, **fields) -> dict:
    path = f"/merchant/counter/{shop.store.id}/pos"
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    return {"csrf_token": csrf_from(client, path), "receipt_id": RECEIPT.search(page.text).group(1), **fields}


def _records(db, shop) -> list[ConsumptionRecord]:
    db.expire_all()
    return db.scalars(select(ConsumptionRecord).where(ConsumptionRecord.store_id == shop.store.id)).all()


def test_a_clerk_records_a_sale_for_a_member_who_agrees_once_per_receipt(client, db, shop, consumer):
    log_in(client, db, shop.clerk)
    form = _pos_form(client, shop, **{"item-0": f"i:{shop.item.id}", "qty-0": "1", "amount-0": "",
                                      "item-1": f"s:{shop.sku.id}", "qty-1": "2", "amount-1": "550.50",
                                      "member_kind": "phone", "member": consumer.phone, "consent": "1"})
    path = f"/merchant/counter/{shop.store.id}/pos"
    response = client.post(path, data=form, follow_redirects=False)
    assert response.status_code == 303 and "?recorded=" in response.headers["location"]
    assert client.post(path, data=form, follow_redirects=False).status_code == 303  # resent: the same receipt
    [record] = _records(db, shop)
    assert record.total_fen == 19900 + 55050 and record.consumer_id == consumer.id
    assert record.source == RecordSource.CONSOLE and record.identified_by == "phone"
    page = client.get(response.headers["location"])
    assert "消费已记录" in page.text and f'data-testid="record-{record.id}"' in page.text


def test_the_pos_screen_explains_what_is_wrong(client, db, shop, consumer):
    log_in(client, db, shop.clerk)
    path = f"/merchant/counter/{shop.store.id}/pos"
    no_consent = _pos_form(client, shop, **{"item-0": f"i:{shop.item.id}", "qty-0": "1",
                                            "member_kind": "phone", "member": consumer.phone})
    page = client.post(path, data=no_consent)
    assert page.status_code == 422 and 'data-testid="error-consent"' in page.text
    nobody = _pos_form(client, shop, **{"item-0": f"i:{shop.item.id}", "qty-0": "1", "member_kind": "phone",
                                        "member": "13111111111", "consent": "1"})
    page = client.post(path, data=nobody)
    assert page.status_code == 422 and "没有会员与此手机号" in page.text
    other = make_shop(db, name="别家车行")
    english(client)
    bad = _pos_form(client, shop, **{"item-0": f"s:{other.sku.id}", "qty-0": "1", "item-1": f"i:{shop.item.id}",
                                     "qty-1": "x", "amount-1": "abc"})
    page = client.post(path, data=bad)
    assert page.status_code == 422 and 'data-testid="error-line-0"' in page.text and 'data-testid="error-line-1"' in page.text
    empty = client.post(path, data=_pos_form(client, shop))
    assert empty.status_code == 422 and "Add at least one line." in empty.text
    assert _records(db, shop) == []

    log_in(client, db, consumer)
    assert client.get(path).status_code == 403
    log_in(client, db, other.clerk)
    csrf = csrf_from(client, f"/merchant/counter/{other.store.id}/pos")
    sneaky = client.post(path, data={"csrf_token": csrf, "receipt_id": "X-1", "item-0": f"i:{shop.item.id}", "qty-0": "1"})
    assert sneaky.status_code == 403 and _records(db, shop) == []


def test_a_consumer_reviews_a_verified_voucher_once_from_the_order_page(client, db, settings, shop, consumer):
    voucher = make_voucher(db, settings, consumer, shop.item, shop.store)
    verification = verify_voucher(db, settings, voucher, shop.store, shop.clerk)
    log_in(client, db, consumer)
    order = client.get(f"/orders/{voucher.order_id}")
    link = f'href="/reviews/new?verification_id={verification.id}"'
    assert link in order.text

    path = f"/reviews/new?verification_id={verification.id}"
    form = client.get(path)
    assert form.status_code == 200 and "写评价" in form.text and 'data-testid="rating_product"' not in form.text
    csrf = csrf_from(client, path)
    missing = client.post("/reviews/new", data={"csrf_token": csrf, "verification_id": str(verification.id),
                                                "rating_experience": "5"})
    assert missing.status_code == 422 and 'data-testid="error-rating_service"' in missing.text
    done = client.post("/reviews/new", data={"csrf_token": csrf, "verification_id": str(verification.id),
                                             "rating_experience": "5", "rating_service": "4", "text": "换油很快"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/reviews/")
    thanks = client.get(done.headers["location"])
    assert "感谢您的评价" in thanks.text and "换油很快" in thanks.text
    db.expire_all()
    assert db.get(Store, shop.store.id).rating_count >= 1
    assert 'data-testid="reviewed"' in client.get(f"/orders/{voucher.order_id}").text
    assert 'data-testid="already-reviewed"' in client.get(path).text
    again = client.post("/reviews/new", data={"csrf_token": csrf, "verification_id": str(verification.id),
                                              "rating_experience": "1", "rating_service": "1"})
    assert again.status_code == 422 and "您已评价过此次消费" in again.text
    assert db.scalar(select(func.count()).select_from(Review)) == 1

    log_in(client, db, make_user(db, name="路人"))
    assert client.get(path).status_code == 404
    assert client.get(done.headers["location"]).status_code == 404


def test_a_recorded_visit_with_products_asks_for_a_product_rating(client, db, shop, consumer):
    log_in(client, db, shop.clerk)
    client.post(f"/merchant/counter/{shop.store.id}/pos", data=_pos_form(
        client, shop, **{"item-0": f"s:{shop.sku.id}", "qty-0": "1", "member_kind": "phone",
                         "member": consumer.phone, "consent": "1"}))
    [record] = _records(db, shop)
    log_in(client, db, consumer)
    visits = client.get("/visits")
    assert f'data-testid="review-record-{record.id}"' in visits.text
    path = f"/reviews/new?record_id={record.id}"
    assert 'data-testid="rating_product"' in client.get(path).text
    csrf = csrf_from(client, path)
    page = client.post("/reviews/new", data={"csrf_token": csrf, "record_id": str(record.id),
                                             "rating_experience": "4", "rating_service": "4"})
    assert page.status_code == 422 and 'data-testid="error-rating_product"' in page.text
    ok = client.post("/reviews/new", data={"csrf_token": csrf, "record_id": str(record.id), "rating_experience": "4",
                                           "rating_service": "4", "rating_product": "5"}, follow_redirects=False)
    assert ok.status_code == 303
    assert "已评价" in client.get("/visits").text
