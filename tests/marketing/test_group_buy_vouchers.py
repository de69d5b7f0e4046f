"""A group-buy join's voucher is not consumed before its deal has succeeded: refused at the counter with
`group_buy_pending` while the deal is undecided, verified after a success, void after a failure; ordinary
vouchers are unaffected. The consumer's voucher list says which vouchers wait for their deal."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from daodian.c2b.group_buy import service as group_buy
from daodian.vouchers.models import Verification, Voucher
from tests.factories import auth, make_shop, make_user
from tests.marketing.group_buy_helpers import create_deal, end_deal, join_and_pay
from tests.orders.helpers import my_vouchers, paid_order, service_body
from tests.web.support import csrf_from, log_in


@pytest.fixture
def shop(db):
    return make_shop(db, item_price_fen=12900)


@pytest.fixture
def manager(db, shop):
    return auth(db, shop.manager)


@pytest.fixture
def clerk(db, shop):
    return auth(db, shop.clerk)


def _people(db, count: int) -> list[dict]:
    return [auth(db, make_user(db, name=f"团员{i}")) for i in range(count)]


def _verify(client, headers: dict, code: str, store_id: int):
    return client.post("/api/v1/vouchers/verify", json={"code": code, "store_id": store_id}, headers=headers)


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _joined_voucher(client, settings, headers: dict, deal_id: int) -> dict:
    join_and_pay(client, settings, headers, deal_id)
    [voucher] = my_vouchers(client, headers)
    return voucher


def _uses_left(db, voucher_id: int) -> int:
    db.expire_all()
    return db.get(Voucher, voucher_id).uses_left


def test_before_the_deal_succeeds_the_voucher_is_refused_with_the_close_in_store_time(client, db, settings,
                                                                                      session_factory, shop,
                                                                                      manager, clerk):
    deal = create_deal(client, shop.merchant.id, manager, shop.item.id)
    me = _people(db, 1)[0]
    voucher = _joined_voucher(client, settings, me, deal["id"])
    assert voucher["status"] == "active"
    assert voucher["group_buy"]["group_buy_id"] == deal["id"] and voucher["group_buy"]["outcome"] == "pending"

    refused = _verify(client, clerk, voucher["code"], shop.store.id)

    assert _error(refused) == (409, "group_buy_pending")
    local = datetime.fromisoformat(deal["ends_at"]).astimezone(ZoneInfo(shop.store.timezone)).strftime("%Y-%m-%d %H:%M")
    body = refused.json()["error"]
    assert local in body["message"] and "gathering participants" in body["message"]
    assert body["details"]["ends_at_local"] == local and body["details"]["group_buy_id"] == deal["id"]
    assert _uses_left(db, voucher["id"]) == voucher["uses_total"]
    assert db.scalar(select(Verification.id).where(Verification.voucher_id == voucher["id"])) is None

    end_deal(session_factory, deal["id"])  # closed but not settled yet: still undecided
    after_close = _verify(client, clerk, voucher["code"], shop.store.id)
    assert _error(after_close) == (409, "group_buy_pending") and "being settled" in after_close.json()["error"]["message"]
    staff_view = client.get(f"/api/v1/vouchers/{voucher['code']}", params={"store_id": shop.store.id}, headers=clerk)
    assert staff_view.status_code == 200 and staff_view.json()["group_buy"]["outcome"] == "pending"


def test_after_a_successful_settlement_the_voucher_verifies(client, db, settings, session_factory, shop, manager,
                                                            clerk):
    deal = create_deal(client, shop.merchant.id, manager, shop.item.id)
    people = _people(db, 2)  # the first tier needs two
    vouchers = [_joined_voucher(client, settings, h, deal["id"]) for h in people]
    end_deal(session_factory, deal["id"])
    assert group_buy.settle(session_factory, settings, deal["id"]).status == "settled"
    assert my_vouchers(client, people[0])[0]["group_buy"]["outcome"] == "succeeded"

    ok = _verify(client, clerk, vouchers[0]["code"], shop.store.id)

    assert ok.status_code == 200, ok.text
    assert ok.json()["voucher_id"] == vouchers[0]["id"] and ok.json()["uses_left"] == 0
    assert _error(_verify(client, clerk, vouchers[0]["code"], shop.store.id)) == (409, "voucher_used_up")


def test_after_a_failed_settlement_the_voucher_is_void(client, db, settings, session_factory, shop, manager, clerk):
    deal = create_deal(client, shop.merchant.id, manager, shop.item.id)
    me = _people(db, 1)[0]  # below the minimum of two
    voucher = _joined_voucher(client, settings, me, deal["id"])
    end_deal(session_factory, deal["id"])
    assert group_buy.settle(session_factory, settings, deal["id"]).status == "failed"

    refused = _verify(client, clerk, voucher["code"], shop.store.id)

    assert _error(refused) == (409, "voucher_refunded")
    [after] = my_vouchers(client, me)
    assert (after["status"], after["uses_left"], after["group_buy"]["outcome"]) == ("refunded", 0, "failed")


def test_a_failed_deal_keeps_its_vouchers_void_even_if_uses_came_back(client, db, settings, session_factory, shop,
                                                                      manager, clerk):
    """A refused refund puts the voided uses back (refunds.restore_uses); the deal still failed."""
    deal = create_deal(client, shop.merchant.id, manager, shop.item.id)
    voucher = _joined_voucher(client, settings, _people(db, 1)[0], deal["id"])
    end_deal(session_factory, deal["id"])
    group_buy.settle(session_factory, settings, deal["id"])
    row = db.get(Voucher, voucher["id"])
    row.uses_left, row.refunded_uses = row.uses_total, 0
    db.flush()

    assert _error(_verify(client, clerk, voucher["code"], shop.store.id)) == (409, "voucher_refunded")
    assert _uses_left(db, voucher["id"]) == row.uses_total


def test_an_ordinary_voucher_verifies_as_before(client, db, settings, shop, clerk):
    me = _people(db, 1)[0]
    paid_order(client, settings, me, service_body(shop.item))
    [voucher] = my_vouchers(client, me)
    assert voucher["group_buy"] is None

    ok = _verify(client, clerk, voucher["code"], shop.store.id)

    assert ok.status_code == 200, ok.text
    assert ok.json()["uses_left"] == 0


def test_the_pages_say_the_voucher_waits_for_the_deal(client, db, settings, shop, manager):
    deal = create_deal(client, shop.merchant.id, manager, shop.item.id)
    consumer = make_user(db, name="团员")
    voucher = _joined_voucher(client, settings, auth(db, consumer), deal["id"])

    log_in(client, db, consumer)
    page = client.get("/vouchers")
    assert page.status_code == 200 and 'data-testid="voucher-group-buy-pending"' in page.text
    assert "等待成团" in page.text and 'data-testid="voucher-qr"' not in page.text

    log_in(client, db, shop.clerk)
    path = f"/merchant/counter/{shop.store.id}/verify"
    screen = client.post(path, data={"csrf_token": csrf_from(client, path), "code": voucher["code"]},
                         headers={"HX-Request": "true"})
    assert screen.status_code == 422 and 'data-code="group_buy_pending"' in screen.text
    assert "拼团尚未成团" in screen.text and 'data-testid="group-buy-close"' in screen.text
