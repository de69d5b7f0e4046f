from sqlalchemy import select

from daodian.kit.facts import Fact
from daodian.vouchers import service as vouchers
from daodian.vouchers.models import Voucher
from tests.factories import auth, make_user
from tests.orders.helpers import create_order, key, my_vouchers, paid_order, pickup_body, service_body


def refund(client, headers, order_id: int, body: dict | None = None):
    return client.post(f"/api/v1/orders/{order_id}/refunds", json=body or {}, headers={**headers, **key()})


def test_partial_then_full_refund_of_a_product_order(client, db, settings, shop, me):
    order = paid_order(client, settings, me, pickup_body(shop.sku, shop.store, quantity=2))  # 598.00
    first = refund(client, me, order["id"], {"amount_fen": 10000, "reason": "少发一瓶"})
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["amount_fen"], first.json()["provider"]) == ("succeeded", 10000, "sandbox")
    after = client.get(f"/api/v1/orders/{order['id']}", headers=me).json()
    assert (after["status"], after["refunded_fen"]) == ("paid", 10000)
    rest = refund(client, me, order["id"]).json()  # no amount: all that is left
    assert rest["amount_fen"] == 59800 - 10000
    closed = client.get(f"/api/v1/orders/{order['id']}", headers=me).json()
    assert (closed["status"], closed["refunded_fen"]) == ("refunded", 59800)
    facts = db.scalars(select(Fact).where(Fact.kind == "order.refunded").order_by(Fact.id)).all()
    assert [f.payload["amount_fen"] for f in facts] == [10000, 49800]


def test_over_refunds_are_refused(client, settings, shop, me):
    order = paid_order(client, settings, me, pickup_body(shop.sku, shop.store))
    too_much = refund(client, me, order["id"], {"amount_fen": 29901})
    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "refund_exceeds_remaining"
    assert refund(client, me, order["id"], {"amount_fen": 29900}).status_code == 201
    again = refund(client, me, order["id"], {"amount_fen": 1})
    assert again.status_code == 409 and again.json()["error"]["code"] == "order_not_refundable"
    assert refund(client, me, order["id"], {"amount_fen": 0}).status_code == 422


def test_unpaid_orders_have_nothing_to_refund(client, shop, me):
    order = create_order(client, me, service_body(shop.item))
    response = refund(client, me, order["id"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_not_refundable"


def test_service_refunds_void_unused_uses_only(client, db, settings, shop, me):
    order = paid_order(client, settings, me, service_body(shop.item, quantity=2))
    first, second = my_vouchers(client, me)
    used = client.post("/api/v1/vouchers/verify", json={"code": first["code"], "store_id": shop.store.id},
                       headers=auth(db, shop.clerk))
    assert used.status_code == 200
    refused = refund(client, me, order["id"], {"voucher_id": first["id"]})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "voucher_not_refundable"
    wrong_amount = refund(client, me, order["id"], {"amount_fen": 100})
    assert wrong_amount.json()["error"]["code"] == "refund_amount_mismatch"
    done = refund(client, me, order["id"]).json()  # every unused use: the second voucher
    assert (done["amount_fen"], done["voided_uses"]) == (19900, {str(second["id"]): 1})
    after = client.get(f"/api/v1/orders/{order['id']}", headers=me).json()
    assert (after["status"], after["refunded_fen"]) == ("completed", 19900)  # one used, one refunded
    nothing = refund(client, me, order["id"])
    assert nothing.status_code == 409
    assert {v["id"]: v["status"] for v in my_vouchers(client, me)} == {first["id"]: "used_up", second["id"]: "refunded"}


def test_a_fully_refunded_service_order_is_refunded(client, settings, shop, me):
    order = paid_order(client, settings, me, service_body(shop.item))
    assert refund(client, me, order["id"]).status_code == 201
    assert client.get(f"/api/v1/orders/{order['id']}", headers=me).json()["status"] == "refunded"


def test_multi_session_cards_refund_remaining_sessions_pro_rata(client, db, settings, shop, me):
    shop.item.sessions, shop.item.price_fen = 3, 10000  # 100.00 for three sessions
    db.flush()
    order = paid_order(client, settings, me, service_body(shop.item))
    [card] = my_vouchers(client, me)
    client.post("/api/v1/vouchers/verify", json={"code": card["code"], "store_id": shop.store.id},
                headers=auth(db, shop.clerk))
    one = refund(client, me, order["id"], {"voucher_id": card["id"], "uses": 1}).json()
    last = refund(client, me, order["id"], {"voucher_id": card["id"], "uses": 1}).json()
    assert (one["amount_fen"], last["amount_fen"]) == (3333, 3333)  # the used session keeps the odd fen
    too_many = refund(client, me, order["id"], {"voucher_id": card["id"], "uses": 1})
    assert too_many.json()["error"]["code"] == "voucher_not_refundable"


def test_who_may_refund(client, db, settings, shop, me):
    order = paid_order(client, settings, me, pickup_body(shop.sku, shop.store))
    stranger = auth(db, make_user(db))
    assert refund(client, stranger, order["id"]).status_code == 404  # someone else's order: as if missing
    assert refund(client, auth(db, shop.clerk), order["id"]).status_code == 403  # the shop's clerk sees it
    client.post(f"/api/v1/orders/{order['id']}/fulfil", headers=auth(db, shop.clerk))
    handed_over = refund(client, me, order["id"])
    assert handed_over.status_code == 409 and handed_over.json()["error"]["code"] == "refund_needs_merchant"
    assert refund(client, auth(db, shop.manager), order["id"], {"amount_fen": 5000}).status_code == 201


def test_offline_payments_are_recorded_and_refunded_at_the_counter(client, db, shop, me):
    order = create_order(client, me, pickup_body(shop.sku, shop.store))
    clerk = auth(db, shop.clerk)
    body = {"provider": "offline", "store_id": shop.store.id, "method": "cash", "reference": "POS-0001"}
    consumer_try = client.post(f"/api/v1/orders/{order['id']}/pay", json=body, headers={**me, **key()})
    assert consumer_try.status_code == 403
    missing = client.post(f"/api/v1/orders/{order['id']}/pay", json={"provider": "offline"}, headers={**clerk, **key()})
    assert missing.status_code == 422 and "store_id" in missing.json()["error"]["message"]
    paid = client.post(f"/api/v1/orders/{order['id']}/pay", json=body, headers={**clerk, **key()})
    assert paid.status_code == 201 and paid.json()["status"] == "succeeded" and paid.json()["pay_url"] is None
    assert client.get(f"/api/v1/orders/{order['id']}", headers=me).json()["status"] == "paid"
    assert refund(client, me, order["id"]).status_code == 403  # cash goes back over the counter
    back = refund(client, clerk, order["id"], {"amount_fen": 29900, "reason": "退货"})
    assert back.status_code == 201 and back.json()["provider"] == "offline" and back.json()["status"] == "succeeded"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=me).json()["status"] == "refunded"


def test_refunds_are_listed(client, settings, shop, me):
    order = paid_order(client, settings, me, pickup_body(shop.sku, shop.store))
    refund(client, me, order["id"], {"amount_fen": 100})
    listed = client.get(f"/api/v1/orders/{order['id']}/refunds", headers=me).json()
    assert [r["amount_fen"] for r in listed] == [100]


def test_use_shares_add_up_to_the_price():
    card = Voucher(unit_price_fen=10000, uses_total=3, refunded_uses=0)
    shares = []
    for _ in range(3):
        shares.append(vouchers.refund_value(card, 1))
        card.refunded_uses += 1
    assert shares == [3333, 3333, 3334] and sum(shares) == 10000
    assert vouchers.refund_value(Voucher(unit_price_fen=10000, uses_total=3, refunded_uses=0), 3) == 10000
