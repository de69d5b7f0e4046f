from datetime import datetime, timedelta

from sqlalchemy import select

from daodian.kit import codes
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from tests.factories import auth, make_user
from tests.orders.helpers import create_order, my_vouchers, paid_order, service_body, start_sandbox


def test_paying_a_service_order_issues_one_voucher_per_unit(client, db, settings, shop, me):
    order = paid_order(client, settings, me, service_body(shop.item, quantity=2))
    vouchers = my_vouchers(client, me)
    assert len(vouchers) == 2 and {v["order_id"] for v in vouchers} == {order["id"]}
    for v in vouchers:
        assert codes.is_valid(v["code"]) and v["display_code"].replace("-", "") == v["code"]
        assert (v["status"], v["uses_total"], v["uses_left"], v["name"]) == ("active", 1, 1, "小保养")
        valid_for = datetime.fromisoformat(v["expires_at"]) - utcnow()
        assert timedelta(days=89) < valid_for <= timedelta(days=90)
    facts = db.scalars(select(Fact).where(Fact.kind == "voucher.issued")).all()
    assert sorted(f.payload["voucher_id"] for f in facts) == sorted(v["id"] for v in vouchers)


def test_no_vouchers_before_payment(client, shop, me):
    order = create_order(client, me, service_body(shop.item))
    start_sandbox(client, me, order["id"])
    assert my_vouchers(client, me) == []


def test_a_multi_session_card_is_one_voucher_with_several_uses(client, db, settings, shop, me):
    response = client.put(f"/api/v1/service-items/{shop.item.id}/sessions", json={"sessions": 5},
                          headers=auth(db, shop.owner))
    assert response.json() == {"sessions": 5}
    paid_order(client, settings, me, service_body(shop.item))
    [voucher] = my_vouchers(client, me)
    assert (voucher["uses_total"], voucher["uses_left"]) == (5, 5)


def test_voucher_expiry_follows_the_setting(client, settings, shop, me, monkeypatch):
    monkeypatch.setattr(settings, "voucher_valid_days", 7)
    paid_order(client, settings, me, service_body(shop.item))
    [voucher] = my_vouchers(client, me)
    assert datetime.fromisoformat(voucher["expires_at"]) - utcnow() <= timedelta(days=7)


def test_owners_read_their_voucher_and_its_qr_code_others_cannot(client, db, settings, shop, me):
    paid_order(client, settings, me, service_body(shop.item))
    [voucher] = my_vouchers(client, me)
    by_display = client.get(f"/api/v1/vouchers/{voucher['display_code'].lower()}", headers=me)
    assert by_display.status_code == 200 and by_display.json()["id"] == voucher["id"]
    qr = client.get(voucher["qr_svg_url"], headers=me)
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.startswith("<svg") and "path" in qr.text
    stranger = auth(db, make_user(db))
    for url in (f"/api/v1/vouchers/{voucher['code']}", voucher["qr_svg_url"]):
        response = client.get(url, headers=stranger)
        assert response.status_code == 404 and response.json()["error"]["code"] == "voucher_not_found"
    assert client.get(f"/api/v1/vouchers/{voucher['code']}").status_code == 401


def test_staff_look_a_code_up_at_their_store(client, db, settings, shop, me):
    paid_order(client, settings, me, service_body(shop.item))
    [voucher] = my_vouchers(client, me)
    clerk = auth(db, shop.clerk)
    found = client.get(f"/api/v1/vouchers/{voucher['code']}", params={"store_id": shop.store.id}, headers=clerk)
    assert found.status_code == 200 and found.json()["uses_left"] == 1
    assert client.get(f"/api/v1/vouchers/{voucher['code']}", headers=clerk).status_code == 404  # not theirs
