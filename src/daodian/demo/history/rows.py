"""The rows the domains would have written for the demo's history, with their rules and their facts.

Writing 90 days through the services row by row would take minutes (and their clock is now), so the
rows are built column-wise here following the same rules, and tests/demo/test_history.py checks the
invariants the services keep: order states per orders.states, payments = paid orders minus refunds,
one verification per used voucher use (used + uses_left + refunded_uses = uses_total), bookings within
slot capacity, one review per verified visit with the store rating folded in as
records.repository.add_to_store_rating does, stock never below zero, and every change its fact
(kinds and payloads as the services append them).
"""

import hashlib
import json

import numpy as np

from daodian.demo.history import booking_rows
from daodian.demo.history.closed_loop import Events, Offer
from daodian.demo.history.tables import MINUTE_US, Columns, Facts, HistoryTables, Ids, Prices, append, iso
from daodian.demo.rows import DAY_US
from daodian.kit import codes

REVIEW_SHARE = 0.35
REPLY_SHARE = 0.2
UNUSED_VOUCHER_SHARE = 0.06  # vouchers bought lately and not redeemed yet
RATING_P = np.array([0.03, 0.05, 0.12, 0.35, 0.45])
REVIEW_TEXTS = ("服务很好，下次还来。", "师傅很专业，价格透明。", "环境干净，等位有点久。", "性价比高，推荐。",
                "一般般，还可以。", "态度不太好，有待改进。", "")
REPLY = "感谢您的评价，期待再次光临！"

def build(rng: np.random.Generator, events: Events, offer: Offer, prices: Prices, ids: Ids,
          now: np.datetime64) -> HistoryTables:
    out = HistoryTables()
    facts = Facts()
    orders: dict[str, list] = {k: [] for k in ORDER_COLUMNS}
    lines: dict[str, list] = {k: [] for k in LINE_COLUMNS}
    payments: dict[str, list] = {k: [] for k in PAYMENT_COLUMNS}
    refunds: dict[str, list] = {k: [] for k in REFUND_COLUMNS}
    _product_orders(rng, events, offer, prices, ids, now, out, facts, orders, lines, payments, refunds)
    vouchers, verifications, owners = _service_orders(rng, events, offer, prices, ids, now, facts, orders, lines,
                                                      payments)
    records, record_lines = _records(rng, events, offer, prices, ids, facts)
    reviews = _reviews(rng, prices, ids, now, out, facts, verifications, owners, records, record_lines)
    slots, bookings = booking_rows.bookings(rng, offer, prices, ids, now, facts)
    out.tables = [("orders", orders), ("order_lines", lines), ("payments", payments), ("refunds", refunds),
                  ("vouchers", vouchers), ("verifications", verifications), ("consumption_records", records),
                  ("consumption_lines", record_lines), ("reviews", reviews), ("booking_slots", slots),
                  ("bookings", bookings), ("facts", facts.columns(ids, now))]
    return out


ORDER_COLUMNS = ("id", "consumer_id", "merchant_id", "kind", "status", "fulfilment", "store_id", "delivery_address",
                 "note", "total_fen", "paid_fen", "refunded_fen", "expires_at", "created_at", "paid_at", "closed_at",
                 "updated_at")
LINE_COLUMNS = ("id", "order_id", "sku_id", "service_item_id", "name", "unit_price_fen", "quantity", "amount_fen",
                "sessions")
PAYMENT_COLUMNS = ("id", "order_id", "provider", "status", "amount_fen", "refunded_fen", "out_trade_no",
                   "provider_trade_no", "pay_url", "late", "details", "created_by", "created_at", "succeeded_at",
                   "updated_at")
REFUND_COLUMNS = ("id", "order_id", "payment_id", "provider", "status", "amount_fen", "reason", "voided_uses",
                  "out_refund_no", "provider_refund_no", "failure", "idempotency_key_id", "requested_by",
                  "created_at", "completed_at")


def _pay(ids_payment: int, order_id: int, consumer: int, amount: int, paid_at, refunded: int,
         payments: dict[str, list]) -> None:
    append(payments, id=ids_payment, order_id=order_id, provider="sandbox", status="succeeded", amount_fen=amount,
            refunded_fen=refunded, out_trade_no=f"DEMO{ids_payment:012d}", provider_trade_no=f"SBX{ids_payment:012d}",
            pay_url=None, late=False, details="{}", created_by=consumer, created_at=paid_at - MINUTE_US,
            succeeded_at=paid_at, updated_at=paid_at)


def _product_orders(rng, events: Events, offer: Offer, prices: Prices, ids: Ids, now, out: HistoryTables,
                    facts: Facts, orders, lines, payments, refunds) -> None:
    n = events.purchase_consumer.size
    order_ids, line_ids = ids("orders", n), ids("order_lines", n)
    roll = rng.random(n)
    quantity = np.where(rng.random(n) < 0.15, 2, 1)
    placed = events.purchase_at - (rng.uniform(1, 20, n) * MINUTE_US).astype("timedelta64[us]")
    refund_after = (rng.uniform(1, 5, n) * DAY_US).astype("timedelta64[us]")
    paid_count = int((roll >= 0.05).sum())
    payment_ids, refund_ids = iter(ids("payments", paid_count).tolist()), iter(ids("refunds", int(
        ((roll >= 0.05) & (roll < 0.07)).sum())).tolist())
    for i in range(n):
        oid, consumer, sku = int(order_ids[i]), int(events.purchase_consumer[i]), int(events.purchase_sku[i])
        sku_id, merchant = int(offer.sku_ids[sku]), int(prices.sku_merchant[sku])
        price, qty = int(prices.sku_price[sku]), int(quantity[i])
        total, created, paid_at = price * qty, placed[i], events.purchase_at[i]
        expires = created + np.timedelta64(30 * MINUTE_US, "us")
        line = {"sku_id": sku_id, "service_item_id": None, "quantity": qty, "unit_price_fen": price, "amount_fen": total}
        scope = dict(merchant_id=merchant, store_id=None, consumer_id=consumer)
        facts.add("order.created", created, {"order_id": oid, "kind": "product", "total_fen": total,
                                             "fulfilment": "delivery", "lines": [line]}, **scope)
        out.sold[sku_id] = out.sold.get(sku_id, 0) + qty
        status, paid_fen, refunded_fen, closed = "paid", total, 0, None
        if roll[i] < 0.05:  # never paid: cancelled by the consumer, or expired at the deadline
            status, paid_fen, paid_at = ("cancelled" if roll[i] < 0.03 else "expired"), 0, None
            closed = created + np.timedelta64(10 * MINUTE_US, "us") if status == "cancelled" else expires
            out.sold[sku_id] -= qty  # stock restored
            facts.add(f"order.{status}", closed, {"order_id": oid, "total_fen": total,
                                                  **({"by": consumer} if status == "cancelled" else {})}, **scope)
        else:
            pid = next(payment_ids)
            facts.add("payment.succeeded", paid_at, {"payment_id": pid, "order_id": oid, "provider": "sandbox",
                                                     "amount_fen": total}, **scope)
            facts.add("order.paid", paid_at, {"order_id": oid, "payment_id": pid, "provider": "sandbox",
                                              "amount_fen": total, "kind": "product"}, **scope)
            age = now - paid_at
            fulfilled_at = paid_at + np.timedelta64(DAY_US, "us")
            if age > np.timedelta64(2 * DAY_US, "us"):
                status = "fulfilled"
                facts.add("order.fulfilled", fulfilled_at, {"order_id": oid, "fulfilment": "delivery"}, **scope)
            if roll[i] < 0.07 and paid_at + refund_after[i] < now:  # returned within seven days, refunded in full
                rid, closed = next(refund_ids), paid_at + refund_after[i]
                status, refunded_fen = "refunded", total
                append(refunds, id=rid, order_id=oid, payment_id=pid, provider="sandbox", status="succeeded",
                        amount_fen=total, reason="七天无理由退货", voided_uses="{}", out_refund_no=f"DEMOR{rid:011d}",
                        provider_refund_no=f"SBXR{rid:011d}", failure=None, idempotency_key_id=None,
                        requested_by=consumer, created_at=closed, completed_at=closed)
                facts.add("order.refunded", closed, {"refund_id": rid, "order_id": oid, "payment_id": pid,
                                                     "provider": "sandbox", "amount_fen": total, "voided_uses": {},
                                                     "reason": "七天无理由退货"}, **scope)
            elif status == "fulfilled" and age > np.timedelta64(10 * DAY_US, "us"):
                status, closed = "completed", paid_at + np.timedelta64(7 * DAY_US, "us")
                facts.add("order.completed", closed, {"order_id": oid, "total_fen": total}, **scope)
            _pay(pid, oid, consumer, total, paid_at, refunded_fen, payments)
        address = json.dumps({"name": prices.consumer_name[consumer], "phone": prices.consumer_phone[consumer],
                              "address": "杭州市西湖区文三路90号"}, ensure_ascii=False)
        append(orders, id=oid, consumer_id=consumer, merchant_id=merchant, kind="product", status=status,
                fulfilment="delivery", store_id=None, delivery_address=address, note="", total_fen=total,
                paid_fen=paid_fen, refunded_fen=refunded_fen, expires_at=expires, created_at=created, paid_at=paid_at,
                closed_at=closed, updated_at=closed if closed is not None else (paid_at or created))
        append(lines, id=int(line_ids[i]), order_id=oid, sku_id=sku_id, service_item_id=None,
                name=str(prices.sku_name[sku]), unit_price_fen=price, quantity=qty, amount_fen=total, sessions=1)


def _service_orders(rng, events: Events, offer: Offer, prices: Prices, ids: Ids, now, facts: Facts, orders, lines,
                    payments) -> tuple[Columns, Columns, dict[int, int]]:
    """One voucher per visit paid online, verified at the visit; plus some bought lately and unused."""
    visits = np.flatnonzero(events.visit_by_voucher)
    unused = int(visits.size * UNUSED_VOUCHER_SHARE)
    consumer = np.concatenate([events.visit_consumer[visits], rng.choice(offer.consumer_ids, unused)])
    offer_pos = np.concatenate([events.visit_offer[visits], rng.integers(0, offer.offer_store.size, unused)])
    lead = (rng.uniform(0.05, 4, visits.size) * DAY_US).astype("timedelta64[us]")
    paid = np.concatenate([events.visit_at[visits] - lead,
                           now - (rng.uniform(0.1, 20, unused) * DAY_US).astype("timedelta64[us]")])
    verified_at = events.visit_at[visits]
    n = consumer.size
    order_ids, line_ids, payment_ids = ids("orders", n), ids("order_lines", n), ids("payments", n)
    voucher_ids, verification_ids = ids("vouchers", n), ids("verifications", visits.size)
    vouchers: dict[str, list] = {k: [] for k in ("id", "code", "order_id", "order_line_id", "consumer_id",
                                                 "merchant_id", "service_item_id", "unit_price_fen", "uses_total",
                                                 "uses_left", "refunded_uses", "expires_at", "created_at", "updated_at")}
    checks: dict[str, list] = {k: [] for k in ("id", "voucher_id", "merchant_id", "store_id", "staff_user_id",
                                               "terminal_id", "verified_at", "reversed_at", "reversed_by")}
    valid = np.timedelta64(prices.voucher_valid_days * DAY_US, "us")
    owners: dict[int, int] = {}  # verification id -> the voucher's holder
    for i in range(n):
        oid, vid, who = int(order_ids[i]), int(voucher_ids[i]), int(consumer[i])
        store = int(offer.offer_store[offer_pos[i]])
        item = int(offer.offer_item[offer_pos[i]])
        item_id, merchant, price = int(prices.item_ids[item]), int(prices.item_merchant[item]), int(prices.item_price[item])
        paid_at = paid[i]
        created = paid_at - np.timedelta64(5 * MINUTE_US, "us")
        scope = dict(merchant_id=merchant, store_id=store, consumer_id=who)
        line = {"sku_id": None, "service_item_id": item_id, "quantity": 1, "unit_price_fen": price, "amount_fen": price}
        facts.add("order.created", created, {"order_id": oid, "kind": "service", "total_fen": price,
                                             "fulfilment": "at_store", "lines": [line]}, **scope)
        pid = int(payment_ids[i])
        facts.add("payment.succeeded", paid_at, {"payment_id": pid, "order_id": oid, "provider": "sandbox",
                                                 "amount_fen": price}, **scope)
        facts.add("order.paid", paid_at, {"order_id": oid, "payment_id": pid, "provider": "sandbox",
                                          "amount_fen": price, "kind": "service"}, **scope)
        facts.add("voucher.issued", paid_at, {"voucher_id": vid, "order_id": oid, "service_item_id": item_id, "uses": 1,
                                              "unit_price_fen": price, "expires_at": iso(paid_at + valid)}, **scope)
        used = i < visits.size
        status, closed = ("completed", verified_at[i]) if used else ("voucher_issued", None)
        if used:
            check_id = int(verification_ids[i])
            owners[check_id] = who
            append(checks, id=check_id, voucher_id=vid, merchant_id=merchant, store_id=store,
                    staff_user_id=prices.clerk_of[merchant], terminal_id="demo-counter-1", verified_at=verified_at[i],
                    reversed_at=None, reversed_by=None)
            facts.add("voucher.verified", verified_at[i], {"verification_id": check_id, "voucher_id": vid,
                                                           "order_id": oid, "service_item_id": item_id, "uses_left": 0,
                                                           "value_fen": price}, **scope)
            facts.add("order.completed", closed, {"order_id": oid, "total_fen": price}, **scope)
        append(orders, id=oid, consumer_id=who, merchant_id=merchant, kind="service", status=status,
                fulfilment="at_store", store_id=store, delivery_address=None, note="", total_fen=price, paid_fen=price,
                refunded_fen=0, expires_at=created + np.timedelta64(30 * MINUTE_US, "us"), created_at=created,
                paid_at=paid_at, closed_at=closed, updated_at=closed if used else paid_at)
        append(lines, id=int(line_ids[i]), order_id=oid, sku_id=None, service_item_id=item_id,
                name=str(prices.item_name[item]), unit_price_fen=price, quantity=1, amount_fen=price, sessions=1)
        _pay(pid, oid, who, price, paid_at, 0, payments)
        append(vouchers, id=vid, code=codes.new_code(), order_id=oid, order_line_id=int(line_ids[i]), consumer_id=who,
                merchant_id=merchant, service_item_id=item_id, unit_price_fen=price, uses_total=1,
                uses_left=0 if used else 1, refunded_uses=0, expires_at=paid_at + valid, created_at=paid_at,
                updated_at=verified_at[i] if used else paid_at)
    return vouchers, checks, owners


def _records(rng, events: Events, offer: Offer, prices: Prices, ids: Ids, facts: Facts) -> tuple[Columns, Columns]:
    """A POS record per visit not paid by voucher; at the demo chain an oil change often comes with its oil."""
    visits = np.flatnonzero(~events.visit_by_voucher)
    record_ids = ids("consumption_records", visits.size)
    chain_oil = np.flatnonzero(prices.sku_merchant == prices.chain_merchant_id)
    with_oil = rng.random(visits.size) < 0.5
    oil_pick = rng.integers(0, max(chain_oil.size, 1), visits.size)
    source = np.where(rng.random(visits.size) < 0.7, "pos", "console")
    records: dict[str, list] = {k: [] for k in ("id", "merchant_id", "store_id", "receipt_id", "consumer_id",
                                                "identified_by", "voucher_id", "recorded_by", "source", "occurred_at",
                                                "total_fen", "currency", "content_hash", "created_at")}
    rows: list[tuple] = []
    for j, v in enumerate(visits.tolist()):
        rid = int(record_ids[j])
        store, item = int(offer.offer_store[events.visit_offer[v]]), int(offer.offer_item[events.visit_offer[v]])
        merchant = int(prices.item_merchant[item])
        who = int(events.visit_consumer[v]) if events.visit_identified[v] else None
        at = events.visit_at[v]
        record_lines = [(None, int(prices.item_ids[item]), str(prices.item_name[item]), 1, int(prices.item_price[item]))]
        if merchant == prices.chain_merchant_id and chain_oil.size and with_oil[j] and "保养" in record_lines[0][2]:
            sku = int(chain_oil[oil_pick[j]])
            record_lines.append((int(offer.sku_ids[sku]), None, str(prices.sku_name[sku]), 1, int(prices.sku_price[sku])))
        total = sum(line[4] for line in record_lines)
        receipt = f"DEMO-{rid}"
        append(records, id=rid, merchant_id=merchant, store_id=store, receipt_id=receipt, consumer_id=who,
                identified_by="phone" if who else "none", voucher_id=None, recorded_by=prices.clerk_of[merchant],
                source=str(source[j]), occurred_at=at, total_fen=total, currency="CNY",
                content_hash=hashlib.sha256(receipt.encode()).hexdigest(), created_at=at + np.timedelta64(MINUTE_US, "us"))
        rows += [(rid, n, *line) for n, line in enumerate(record_lines)]
        facts.add("consumption.recorded", at, {
            "record_id": rid, "receipt_id": receipt, "source": str(source[j]), "identified_by": "phone" if who else "none",
            "total_fen": total, "currency": "CNY",
            "lines": [{"sku_id": s, "service_item_id": it, "quantity": q, "amount_fen": a} for s, it, _, q, a in record_lines],
        }, merchant_id=merchant, store_id=store, consumer_id=who)
    line_ids = ids("consumption_lines", len(rows))
    lines = dict(id=line_ids, record_id=[r[0] for r in rows], line_no=[r[1] for r in rows], sku_id=[r[2] for r in rows],
                 service_item_id=[r[3] for r in rows], description=[r[4] for r in rows], quantity=[r[5] for r in rows],
                 amount_fen=[r[6] for r in rows])
    return records, lines


def _reviews(rng, prices: Prices, ids: Ids, now, out: HistoryTables, facts: Facts, verifications: Columns,
             owners: dict[int, int], records: Columns, record_lines: Columns) -> Columns:
    """Some verified visits get one review each; the store rating folds each one in."""
    basis: list[tuple] = []  # (record_id, verification_id, consumer, merchant, store, at, has_products)
    with_products = {r for r, s in zip(record_lines["record_id"], record_lines["sku_id"]) if s is not None}
    for rid, who, merchant, store, at in zip(records["id"], records["consumer_id"], records["merchant_id"],
                                             records["store_id"], records["occurred_at"]):
        if who is not None:
            basis.append((rid, None, who, merchant, store, at, rid in with_products))
    for check_id, merchant, store, at in zip(verifications["id"], verifications["merchant_id"], verifications["store_id"],
                                             verifications["verified_at"]):
        basis.append((None, check_id, owners[check_id], merchant, store, at, False))
    return _review_rows(rng, prices, ids, now, out, facts, basis)


def _review_rows(rng, prices: Prices, ids: Ids, now, out: HistoryTables, facts: Facts, basis: list[tuple]) -> Columns:
    chosen = [b for b, r in zip(basis, rng.random(len(basis))) if r < REVIEW_SHARE]
    review_ids = ids("reviews", len(chosen))
    cols: dict[str, list] = {k: [] for k in ("id", "consumer_id", "merchant_id", "store_id", "record_id",
                                             "verification_id", "rating_experience", "rating_service", "rating_product",
                                             "text", "status", "merchant_reply", "replied_at", "replied_by",
                                             "created_at")}
    experience = rng.choice(5, len(chosen), p=RATING_P) + 1
    service = np.clip(experience + rng.integers(-1, 2, len(chosen)), 1, 5)
    product = np.clip(experience + rng.integers(-1, 2, len(chosen)), 1, 5)
    text = rng.integers(0, len(REVIEW_TEXTS), len(chosen))
    later = (rng.uniform(0.05, 3, len(chosen)) * DAY_US).astype("timedelta64[us]")
    replied = rng.random(len(chosen)) < REPLY_SHARE
    for i, (record_id, check_id, who, merchant, store, at, has_products) in enumerate(chosen):
        rid = int(review_ids[i])
        created = min(at + later[i], now - np.timedelta64(MINUTE_US, "us"))
        reply_at = min(created + np.timedelta64(DAY_US, "us"), now) if replied[i] else None
        rating_product = int(product[i]) if has_products else None
        words = REVIEW_TEXTS[text[i]]
        append(cols, id=rid, consumer_id=who, merchant_id=merchant, store_id=store, record_id=record_id,
                verification_id=check_id, rating_experience=int(experience[i]), rating_service=int(service[i]),
                rating_product=rating_product, text=words, status="visible",
                merchant_reply=REPLY if replied[i] else None, replied_at=reply_at,
                replied_by=prices.clerk_of[merchant] if replied[i] else None, created_at=created)
        out.rating_sum[store] = out.rating_sum.get(store, 0) + int(experience[i])
        out.rating_n[store] = out.rating_n.get(store, 0) + 1
        facts.add("review.created", created, {
            "review_id": rid, "basis": "record" if record_id is not None else "verification", "record_id": record_id,
            "verification_id": check_id, "rating_experience": int(experience[i]), "rating_service": int(service[i]),
            "rating_product": rating_product, "text_length": len(words)}, merchant_id=merchant, store_id=store,
            consumer_id=who)
        if replied[i]:
            facts.add("review.replied", reply_at, {"review_id": rid, "reply_length": len(REPLY)}, merchant_id=merchant,
                      store_id=store)
    return cols
