from datetime import timedelta

import pytest
from sqlalchemy import select, update

from daodian.kit import codes
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from daodian.vouchers.models import Verification, VerificationFailure, Voucher
from tests.factories import add_staff, auth, make_item, make_shop, make_store, make_user
from tests.orders.helpers import key, my_vouchers, paid_order, service_body


@pytest.fixture
def voucher(client, settings, shop, me) -> dict:
    paid_order(client, settings, me, service_body(shop.item))
    return my_vouchers(client, me)[0]


@pytest.fixture
def clerk(db, shop) -> dict:
    return auth(db, shop.clerk)


def verify(client, headers, code: str, store_id: int, **extra_headers):
    return client.post("/api/v1/vouchers/verify", json={"code": code, "store_id": store_id},
                       headers={**headers, **extra_headers})


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_voucher_is_verified_once(client, db, shop, me, voucher, clerk):
    ok = verify(client, clerk, voucher["display_code"].lower(), shop.store.id)  # typed, any grouping
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert (body["voucher_id"], body["uses_left"], body["store_id"]) == (voucher["id"], 0, shop.store.id)
    assert error(verify(client, clerk, voucher["code"], shop.store.id)) == (409, "voucher_used_up")
    order = client.get(f"/api/v1/orders/{voucher['order_id']}", headers=me).json()
    assert order["status"] == "completed"  # the last use was consumed
    [fact] = db.scalars(select(Fact).where(Fact.kind == "voucher.verified")).all()
    assert fact.payload["voucher_id"] == voucher["id"] and fact.store_id == shop.store.id


def test_multi_use_vouchers_count_down_to_zero(client, db, settings, shop, me, clerk):
    shop.item.sessions = 3
    db.flush()
    order = paid_order(client, settings, me, service_body(shop.item))
    [voucher] = my_vouchers(client, me)
    assert [verify(client, clerk, voucher["code"], shop.store.id).json()["uses_left"] for _ in range(3)] == [2, 1, 0]
    assert error(verify(client, clerk, voucher["code"], shop.store.id)) == (409, "voucher_used_up")
    assert client.get(f"/api/v1/orders/{order['id']}", headers=me).json()["status"] == "completed"


def test_wrong_codes(client, shop, voucher, clerk):
    typo = voucher["code"][:-1] + next(c for c in codes.ALPHABET if c != voucher["code"][-1])
    assert error(verify(client, clerk, typo, shop.store.id)) == (404, "voucher_not_found")  # bad check symbol
    unknown = codes.new_code()
    assert error(verify(client, clerk, unknown, shop.store.id)) == (404, "voucher_not_found")


def test_foreign_codes(client, db, shop, voucher):
    other = make_shop(db, name="别家")
    add_staff(db, other.merchant, shop.clerk, "clerk")  # even staff of both may not cross-redeem
    response = verify(client, auth(db, shop.clerk), voucher["code"], other.store.id)
    assert error(response) == (422, "voucher_foreign_store")
    bare = make_store(db, shop.merchant, name="只洗车的店")
    make_item(db, shop.merchant, [bare.id])
    assert error(verify(client, auth(db, shop.clerk), voucher["code"], bare.id)) == (422, "voucher_foreign_store")


def test_expired_vouchers(client, db, shop, voucher, clerk):
    db.execute(update(Voucher).where(Voucher.id == voucher["id"]).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.flush()
    assert error(verify(client, clerk, voucher["code"], shop.store.id)) == (409, "voucher_expired")


def test_refunded_vouchers(client, db, shop, me, voucher, clerk):
    refund = client.post(f"/api/v1/orders/{voucher['order_id']}/refunds", json={}, headers={**me, **key()})
    assert refund.status_code == 201, refund.text
    assert error(verify(client, clerk, voucher["code"], shop.store.id)) == (409, "voucher_refunded")


def test_only_counter_staff_verify(client, db, shop, me, voucher):
    assert verify(client, me, voucher["code"], shop.store.id).status_code == 403
    assert verify(client, {}, voucher["code"], shop.store.id).status_code == 401
    assert error(verify(client, auth(db, shop.clerk), voucher["code"], 10**12)) == (404, "store_not_found")


def test_wrong_guesses_throttle_the_terminal(client, db, settings, shop, voucher, clerk, monkeypatch):
    monkeypatch.setattr(settings, "verification_max_failures", 3)
    for _ in range(3):
        assert verify(client, clerk, codes.new_code(), shop.store.id).status_code == 404
    throttled = verify(client, clerk, voucher["code"], shop.store.id)  # even a right code waits now
    assert error(throttled) == (429, "verification_throttled")
    lookup = client.get(f"/api/v1/vouchers/{voucher['code']}", params={"store_id": shop.store.id}, headers=clerk)
    assert lookup.status_code == 429
    colleague = make_user(db)
    add_staff(db, shop.merchant, colleague, "clerk")
    assert verify(client, auth(db, colleague), voucher["code"], shop.store.id).status_code == 200  # another terminal


def test_a_rotating_terminal_id_does_not_reset_the_count(client, settings, shop, voucher, clerk, monkeypatch):
    monkeypatch.setattr(settings, "verification_max_failures", 2)
    for i in range(2):
        verify(client, clerk, codes.new_code(), shop.store.id, **{"X-Terminal-Id": f"pos-{i}"})
    assert verify(client, clerk, voucher["code"], shop.store.id, **{"X-Terminal-Id": "pos-9"}).status_code == 429


def test_a_terminal_is_throttled_across_accounts(client, db, settings, shop, voucher, clerk, monkeypatch):
    monkeypatch.setattr(settings, "verification_max_failures", 2)
    colleague = make_user(db)
    add_staff(db, shop.merchant, colleague, "clerk")
    verify(client, clerk, codes.new_code(), shop.store.id, **{"X-Terminal-Id": "pos-1"})
    verify(client, auth(db, colleague), codes.new_code(), shop.store.id, **{"X-Terminal-Id": "pos-1"})
    response = verify(client, clerk, voucher["code"], shop.store.id, **{"X-Terminal-Id": "pos-1"})
    assert error(response) == (429, "verification_throttled")


def test_the_throttle_window_passes(client, db, settings, shop, voucher, clerk, monkeypatch):
    monkeypatch.setattr(settings, "verification_max_failures", 1)
    verify(client, clerk, codes.new_code(), shop.store.id)
    assert verify(client, clerk, voucher["code"], shop.store.id).status_code == 429
    monkeypatch.setattr(settings, "verification_throttle_minutes", 1)
    db.execute(update(VerificationFailure).values(attempted_at=utcnow() - timedelta(minutes=2)))
    db.flush()
    assert verify(client, clerk, voucher["code"], shop.store.id).status_code == 200


def test_managers_reverse_a_verification_within_the_window(client, db, shop, me, voucher, clerk):
    verification = verify(client, clerk, voucher["code"], shop.store.id).json()
    url = f"/api/v1/verifications/{verification['id']}/reverse"
    assert client.post(url, headers=clerk).status_code == 403  # clerks may not
    reversed_ = client.post(url, headers=auth(db, shop.manager))
    assert reversed_.status_code == 200 and reversed_.json()["reversed_at"] is not None
    assert reversed_.json()["uses_left"] == 1
    assert error(client.post(url, headers=auth(db, shop.manager))) == (409, "verification_already_reversed")
    assert client.get(f"/api/v1/orders/{voucher['order_id']}", headers=me).json()["status"] == "voucher_issued"
    assert verify(client, clerk, voucher["code"], shop.store.id).status_code == 200  # usable again
    assert db.scalars(select(Fact).where(Fact.kind == "voucher.verification_reversed")).one()


def test_no_reversal_after_the_window(client, db, settings, shop, voucher, clerk, monkeypatch):
    verification = verify(client, clerk, voucher["code"], shop.store.id).json()
    db.execute(update(Verification).where(Verification.id == verification["id"])
               .values(verified_at=utcnow() - timedelta(minutes=31)))
    db.flush()
    url = f"/api/v1/verifications/{verification['id']}/reverse"
    assert error(client.post(url, headers=auth(db, shop.owner))) == (409, "reversal_window_passed")
    monkeypatch.setattr(settings, "verification_reversal_minutes", 60)
    assert client.post(url, headers=auth(db, shop.owner)).status_code == 200


def test_merchants_list_their_verifications(client, db, shop, voucher, clerk):
    verify(client, clerk, voucher["code"], shop.store.id)
    listed = client.get(f"/api/v1/merchants/{shop.merchant.id}/verifications", headers=clerk).json()["items"]
    assert [v["voucher_id"] for v in listed] == [voucher["id"]]
    assert client.get(f"/api/v1/verifications/{10**12}/reverse").status_code == 405
