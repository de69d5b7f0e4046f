"""The counter's verification screen: distinct messages for wrong, used, expired and foreign codes; reversal;
only the merchant's staff; throttling of wrong guesses."""

from datetime import timedelta

import pytest

from daodian.kit import codes
from daodian.kit.clock import utcnow
from daodian.vouchers.models import Voucher
from tests.factories import make_shop, make_user, make_voucher
from tests.web.support import csrf_from, english, log_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(db):
    return make_shop(db, name="老王车行")


@pytest.fixture
def voucher(db, settings, shop):
    return make_voucher(db, settings, make_user(db, name="小李"), shop.item, shop.store)


def _verify(client, store_id: int, code: str, *, htmx: bool = True):
    path = f"/merchant/counter/{store_id}/verify"
    return client.post(path, data={"csrf_token": csrf_from(client, path), "code": code},
                       headers=HTMX if htmx else {})


def _error_code(page) -> str:
    assert 'data-testid="verify-error"' in page.text, page.text[:500]
    return page.text.split('data-code="', 1)[1].split('"', 1)[0]


def test_a_clerk_verifies_a_typed_code_once_and_sees_why_the_others_fail(client, db, settings, shop, voucher):
    log_in(client, db, shop.clerk)
    screen = client.get(f"/merchant/counter/{shop.store.id}/verify")
    assert screen.status_code == 200 and 'data-testid="verify-code"' in screen.text and "autofocus" in screen.text
    assert "核销券码" in screen.text

    ok = _verify(client, shop.store.id, codes.display(voucher.code).lower())  # grouped and lower case, as typed
    assert ok.status_code == 200 and 'data-testid="verify-ok"' in ok.text and "核销成功" in ok.text
    assert "<html" not in ok.text  # htmx gets the result block only
    assert 'data-testid="reverse"' not in ok.text  # clerks cannot undo; managers can
    db.expire_all()
    assert db.get(Voucher, voucher.id).uses_left == 0

    used = _verify(client, shop.store.id, voucher.code)
    assert used.status_code == 422 and _error_code(used) == "voucher_used_up" and "已使用" in used.text

    wrong = _verify(client, shop.store.id, "ABCD-EFGH-JKMN")
    assert _error_code(wrong) == "voucher_not_found" and "券码错误" in wrong.text

    stale = make_voucher(db, settings, make_user(db), shop.item, shop.store)
    stale.expires_at = utcnow() - timedelta(days=1)
    db.flush()
    assert _error_code(_verify(client, shop.store.id, stale.code)) == "voucher_expired"

    other = make_shop(db, name="别家车行")
    foreign = make_voucher(db, settings, make_user(db), other.item, other.store)
    english(client)
    page = _verify(client, shop.store.id, foreign.code, htmx=False)
    assert page.status_code == 422 and "<html" in page.text and _error_code(page) == "voucher_foreign_store"
    assert "Not valid here" in page.text


def test_a_manager_may_undo_a_verification(client, db, settings, shop, voucher):
    log_in(client, db, shop.manager)
    ok = _verify(client, shop.store.id, voucher.code)
    assert 'data-testid="reverse"' in ok.text
    verification_id = int(ok.text.split('data-verification-id="', 1)[1].split('"', 1)[0])
    path = f"/merchant/verifications/{verification_id}/reverse"
    csrf = csrf_from(client, f"/merchant/counter/{shop.store.id}/verify")
    undone = client.post(path, data={"csrf_token": csrf, "store_id": str(shop.store.id)}, headers=HTMX)
    assert undone.status_code == 200 and "已撤销核销" in undone.text
    db.expire_all()
    assert db.get(Voucher, voucher.id).uses_left == 1
    again = client.post(path, data={"csrf_token": csrf, "store_id": str(shop.store.id)}, headers=HTMX)
    assert again.status_code == 422 and _error_code(again) == "verification_already_reversed"


def test_only_the_merchants_counter_staff_reach_the_screen(client, db, shop, voucher):
    assert client.get(f"/merchant/counter/{shop.store.id}/verify", follow_redirects=False).status_code == 303
    log_in(client, db, make_user(db, name="顾客"))
    assert client.get(f"/merchant/counter/{shop.store.id}/verify").status_code == 403
    other = make_shop(db, name="别家车行")
    log_in(client, db, other.clerk)
    assert client.get(f"/merchant/counter/{shop.store.id}/verify").status_code == 403
    csrf = csrf_from(client, f"/merchant/counter/{other.store.id}/verify")
    response = client.post(f"/merchant/counter/{shop.store.id}/verify", data={"csrf_token": csrf, "code": voucher.code})
    assert response.status_code == 403
    db.expire_all()
    assert db.get(Voucher, voucher.id).uses_left == 1
    assert client.post(f"/merchant/counter/{other.store.id}/verify", data={"code": voucher.code}).status_code == 403


def test_wrong_guesses_from_one_counter_are_throttled(client, db, settings, shop, voucher):
    log_in(client, db, shop.clerk)
    for _ in range(settings.verification_max_failures):
        assert _error_code(_verify(client, shop.store.id, "ABCD-EFGH-JKMN")) == "voucher_not_found"
    throttled = _verify(client, shop.store.id, voucher.code)
    assert _error_code(throttled) == "verification_throttled" and "输错券码次数过多" in throttled.text
    db.expire_all()
    assert db.get(Voucher, voucher.id).uses_left == 1
