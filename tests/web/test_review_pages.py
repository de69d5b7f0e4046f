"""Reviews on pages: the store page shows the latest reviews with the shop's reply; a manager of the store's
merchant answers in the console (a clerk reads but cannot answer, another merchant sees nothing)."""

import pytest

from daodian.accounts.authz import Principal
from daodian.records import reviews
from daodian.records.models import Review
from daodian.records.schemas import ReviewCreate
from tests.factories import make_shop, make_user, make_voucher, principal_of, verify_voucher
from tests.web.support import csrf_from, english, log_in


@pytest.fixture
def shop(db):
    return make_shop(db, name="老王车行")


def _review(db, settings, shop, text: str) -> Review:
    consumer = make_user(db, name="小李")
    voucher = make_voucher(db, settings, consumer, shop.item, shop.store)
    verification = verify_voucher(db, settings, voucher, shop.store, shop.clerk)
    principal: Principal = principal_of(db, consumer)
    return reviews.create_review(db, principal, ReviewCreate(
        verification_id=verification.id, rating_experience=4, rating_service=5, text=text))


def test_a_manager_replies_and_the_store_page_shows_the_reply(client, db, settings, shop):
    review = _review(db, settings, shop, "换油很快")
    english(client)
    store_page = client.get(f"/s/{shop.store.id}")
    assert f'data-testid="review-{review.id}"' in store_page.text and "换油很快" in store_page.text
    assert f'data-testid="reply-{review.id}"' not in store_page.text

    log_in(client, db, shop.manager)
    path = f"/merchant/stores/{shop.store.id}/reviews"
    console = client.get(path)
    assert console.status_code == 200 and f'data-testid="reply-form-{review.id}"' in console.text
    csrf = csrf_from(client, path)
    empty = client.post(f"/merchant/reviews/{review.id}/reply", data={"csrf_token": csrf, "text": "   "})
    assert empty.status_code == 422 and "Write a reply first." in empty.text
    done = client.post(f"/merchant/reviews/{review.id}/reply", data={"csrf_token": csrf, "text": "谢谢光临"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(path)
    db.expire_all()
    assert db.get(Review, review.id).merchant_reply == "谢谢光临"

    client.cookies.clear()
    english(client)
    for public in (f"/s/{shop.store.id}", f"/s/{shop.store.id}/reviews"):
        page = client.get(public)
        assert page.status_code == 200 and f'data-testid="reply-{review.id}"' in page.text and "谢谢光临" in page.text


def test_a_clerk_reads_reviews_but_cannot_reply(client, db, settings, shop):
    review = _review(db, settings, shop, "不错")
    log_in(client, db, shop.clerk)
    path = f"/merchant/stores/{shop.store.id}/reviews"
    page = client.get(path)
    assert page.status_code == 200 and "不错" in page.text and "reply-form-" not in page.text
    denied = client.post(f"/merchant/reviews/{review.id}/reply", data={"csrf_token": csrf_from(client, path),
                                                                       "text": "谢谢"})
    assert denied.status_code == 403
    db.expire_all()
    assert db.get(Review, review.id).merchant_reply is None


def test_another_merchant_cannot_read_or_answer(client, db, settings, shop):
    review = _review(db, settings, shop, "不错")
    other = make_shop(db, name="隔壁车行")
    log_in(client, db, other.owner)
    assert client.get(f"/merchant/stores/{shop.store.id}/reviews").status_code == 403
    csrf = csrf_from(client, f"/merchant/stores/{other.store.id}/reviews")
    assert client.post(f"/merchant/reviews/{review.id}/reply", data={"csrf_token": csrf, "text": "x"}).status_code == 403
    db.expire_all()
    assert db.get(Review, review.id).merchant_reply is None


def test_signed_out_visitors_are_sent_to_log_in_for_the_console(client, shop):
    page = client.get(f"/merchant/stores/{shop.store.id}/reviews", follow_redirects=False)
    assert page.status_code in (302, 303) and "/login" in page.headers["location"]
