"""The demo history's marketing and loyalty rows: coupons claimed, used at the counter and expired, points
earned on paid orders (and a lapsed welcome bonus), follows with their memberships, member tiers.

Built column-wise after the history's orders, by the rules the live code keeps:
- coupons: `coupons.service.issue` (one conditional decrement of `remaining` per claim, a
  `coupon.claimed` fact), `redemption._mark_used` at the counter (at="counter", the store of the coupon's
  merchant, the amount paid after the discount in the fact; no order is touched, so the history's order
  amounts stay exactly as history_rows wrote them), `coupons.expire_due` (a `coupon.expired` fact);
- points: `loyalty.points.earn` / `expire` (double-entry, one `points.entry` fact per leg, cached
  balances equal to the ledger sums). The earning rate is the default 100 fen = 1 point (EARN_FEN_PER_POINT:
  loyalty.earning is not there yet); refunded, cancelled and expired orders earn nothing;
- follows: `follows.service.follow` (a membership of "merchant:<id>" and a `follow.created` fact); a
  member's tier is the highest whose `min_spend_fen` their paid spend at the merchant reaches.
"""

from collections import defaultdict

import numpy as np

from daodian.coupons import stock
from daodian.demo.history.tables import MINUTE_US, Facts
from daodian.demo.rows import DAY_US
from daodian.kit import codes

EARN_FEN_PER_POINT = 100  # the default rate (loyalty.earning.DEFAULT_POINTS_PER_YUAN when it exists)
POINTS_VALID_DAYS = 365
WELCOME_POINTS = 50  # a platform welcome bonus valid 30 days: lapsed in the history for its oldest holders
WELCOME_SHARE = 0.3
WELCOME_VALID_DAYS = 30
COUPON_MERCHANT_SHARE = 0.3
COUPON_QUANTITY = 200
COUPON_VALID_DAYS = 30
COUPON_THRESHOLD_FEN, COUPON_OFF_FEN = 10_000, 1_500  # 满100减15
USED_SHARE = 0.35
FOLLOW_SHARE = 0.4  # of the consumers who bought from a merchant
TIERED_MERCHANTS = 3  # besides the demo chain: the merchants with most paid orders
TIERS = (("银卡", 1, 20_000), ("金卡", 2, 80_000), ("黑金", 3, 200_000))  # name, rank, min spend (fen)
PAID = ("paid", "fulfilled", "completed", "voucher_issued")

Columns = dict[str, object]


def extend(rng: np.random.Generator, tables: list[tuple[str, Columns]], store_cols: Columns,
           creator_of: dict[int, int], chain_merchant_id: int, consumer_ids: np.ndarray, ids,
           now: np.datetime64) -> list[tuple[str, Columns]]:
    """The history's (table name, columns) with these tables added before the facts, and their facts merged
    into the history's in time order (ids increase with time, as live facts' do)."""
    facts = Facts()
    history = dict(tables)
    paid = _paid_orders(history["orders"])
    mine = _coupons(rng, paid, store_cols, creator_of, ids, now, facts)
    mine += _points(rng, paid, consumer_ids, ids, now, facts)
    mine += _follows(rng, paid, creator_of, chain_merchant_id, ids, now, facts)
    mine = [(name, columns) for name, columns in mine if columns and len(next(iter(columns.values())))]
    merged = _merge(history["facts"], facts.columns(ids, now))
    return [t for t in tables if t[0] != "facts"] + mine + [("facts", merged)]


def _merge(a: Columns, b: Columns) -> Columns:
    at = np.concatenate([np.asarray(a["occurred_at"], dtype="datetime64[us]"),
                         np.asarray(b["occurred_at"], dtype="datetime64[us]")])
    order = np.argsort(at, kind="stable")
    out: Columns = {"id": np.sort(np.concatenate([np.asarray(a["id"]), np.asarray(b["id"])]))}
    for name in a:
        if name != "id":
            both = list(a[name]) + list(b[name])
            out[name] = at[order] if name in ("occurred_at", "recorded_at") else [both[i] for i in order.tolist()]
    return out


def _paid_orders(orders: Columns) -> list[tuple[int, int, int, int, np.datetime64]]:
    """(order id, consumer, merchant, paid fen, paid at) of the orders that stayed paid, by time."""
    rows = [(int(o), int(c), int(m), int(f), p) for o, c, m, s, f, p in zip(
        orders["id"], orders["consumer_id"], orders["merchant_id"], orders["status"], orders["paid_fen"],
        orders["paid_at"]) if s in PAID and f > 0]
    return sorted(rows, key=lambda r: (r[4], r[0]))


def _us(n: float) -> np.timedelta64:
    return np.timedelta64(int(n), "us")


# --- coupons --------------------------------------------------------------------------------------------


def _coupons(rng, paid, store_cols: Columns, creator_of: dict[int, int], ids, now, facts: Facts) -> list:
    stores_of: dict[int, list[int]] = defaultdict(list)
    for store, merchant, status in zip(store_cols["id"], store_cols["merchant_id"], store_cols["status"]):
        if status == "open":
            stores_of[int(merchant)].append(int(store))
    buyers: dict[int, set[int]] = defaultdict(set)
    for _, consumer, merchant, _, _ in paid:
        buyers[merchant].add(consumer)
    candidates = sorted(m for m in creator_of if stores_of.get(m) and buyers.get(m))
    chosen = [m for m in candidates if rng.random() < COUPON_MERCHANT_SHARE]
    start = now - _us(90 * DAY_US)
    template_ids = ids("coupon_templates", len(chosen))
    t_cols: dict[str, list] = defaultdict(list)
    s_cols: dict[str, list] = defaultdict(list)
    c_cols: dict[str, list] = defaultdict(list)
    claims = {m: sorted(buyers[m])[:COUPON_QUANTITY] for m in chosen}
    coupon_ids = iter(ids("coupons", sum(len(v) for v in claims.values())).tolist())
    valid = _us(COUPON_VALID_DAYS * DAY_US)
    for template, merchant in zip(template_ids.tolist(), chosen):
        who = claims[merchant]
        for key, value in dict(id=template, merchant_id=merchant, name="满100减15", kind="threshold",
                               threshold_fen=COUPON_THRESHOLD_FEN, amount_fen=COUPON_OFF_FEN, percent_off=None,
                               cap_fen=None, scope="merchant", scope_values="[]", stacking="exclusive",
                               claim_starts_at=start, claim_ends_at=now + _us(30 * DAY_US), valid_until=None,
                               valid_days=COUPON_VALID_DAYS, total_quantity=COUPON_QUANTITY,
                               per_user_limit=1, public=True,
                               created_by=creator_of[merchant], created_at=start).items():
            t_cols[key].append(value)
        for slot, remaining in enumerate(stock.shares(COUPON_QUANTITY - len(who))):
            for key, value in dict(template_id=template, slot=slot, remaining=remaining).items():
                s_cols[key].append(value)
        claimed = start + (rng.uniform(0, 88, len(who)) * DAY_US).astype("timedelta64[us]")
        for consumer, at in zip(who, claimed):
            cid, until = next(coupon_ids), at + valid
            coupon = dict(coupon_id=cid, template_id=template, campaign_id=None)
            scope = dict(merchant_id=merchant, consumer_id=consumer)
            facts.add("coupon.claimed", at, {**coupon, "channel": "online"}, **scope)
            status, used_at, store, discount = "available", None, None, None
            last = min(until, now)
            if rng.random() < USED_SHARE and last - at > _us(MINUTE_US):
                status, discount = "used", COUPON_OFF_FEN
                used_at = at + _us(rng.uniform(MINUTE_US, int((last - at) / np.timedelta64(1, "us"))))
                store = int(rng.choice(stores_of[merchant]))
                bill = int(rng.integers(COUPON_THRESHOLD_FEN, 4 * COUPON_THRESHOLD_FEN))
                facts.add("coupon.used", used_at, {**coupon, "order_id": None, "record_id": None,
                                                   "discount_fen": discount, "at": "counter",
                                                   "amount_fen": bill - discount}, store_id=store, **scope)
            elif until <= now:
                status = "expired"
                facts.add("coupon.expired", until, coupon, **scope)
            for key, value in dict(id=cid, template_id=template, consumer_id=consumer, merchant_id=merchant,
                                   claim_no=1, code=codes.new_code(), status=status, channel="online",
                                   campaign_id=None, claimed_at=at, valid_from=at, valid_until=until,
                                   used_at=used_at, used_order_id=None, used_store_id=store, discount_fen=discount,
                                   updated_at=used_at if used_at is not None else (until if status == "expired"
                                                                                   else at)).items():
                c_cols[key].append(value)
    return [("coupon_templates", dict(t_cols)), ("coupon_stock", dict(s_cols)), ("coupons", dict(c_cols))]


# --- points ---------------------------------------------------------------------------------------------


class _Ledger:
    """Accounts opened on first use; transactions and their legs, with the balances they leave."""

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], dict] = {}
        self.txns: list[dict] = []
        self.legs: list[tuple[int, tuple[str, str], int]] = []  # (txn position, account key, delta)

    def account(self, kind: str, consumer: int | None = None, merchant: int | None = None) -> tuple[str, str]:
        owner = f"user:{consumer}" if consumer else f"merchant:{merchant}" if merchant else "platform"
        key = (kind, owner)
        self.accounts.setdefault(key, dict(consumer_id=consumer, merchant_id=merchant, balance=0, updated_at=None))
        return key

    def post(self, kind: str, consumer: int, merchant: int | None, points: int, reference: str, at, legs,
             expires_at=None) -> None:
        assert sum(d for _, d in legs) == 0 and points > 0
        for key, delta in legs:
            account = self.accounts[key]
            account["balance"] += delta
            assert account["balance"] >= 0 or key[0] != "consumer"
            account["updated_at"] = at
            self.legs.append((len(self.txns), key, delta))
        self.txns.append(dict(kind=kind, consumer_id=consumer, merchant_id=merchant, points=points,
                              reference=reference, reverses_id=None, expires_at=expires_at, created_at=at))


def _points(rng, paid, consumer_ids: np.ndarray, ids, now, facts: Facts) -> list:
    ledger = _Ledger()
    events = []  # (at, order) so that each consumer's balance runs forward in time
    start = now - _us(90 * DAY_US)
    welcomed = consumer_ids[rng.random(consumer_ids.size) < WELCOME_SHARE]
    welcome_at = start + (rng.uniform(0, 89, welcomed.size) * DAY_US).astype("timedelta64[us]")
    for consumer, at in zip(welcomed.tolist(), welcome_at):
        events.append((at, 0, ("welcome", consumer)))
        if at + _us(WELCOME_VALID_DAYS * DAY_US) <= now:
            events.append((at + _us(WELCOME_VALID_DAYS * DAY_US), 2, ("expire", consumer)))
    for oid, consumer, merchant, fen, at in paid:
        if fen // EARN_FEN_PER_POINT > 0:
            events.append((at, 1, ("earn", oid, consumer, merchant, fen // EARN_FEN_PER_POINT)))
    events.sort(key=lambda e: (e[0], e[1], e[2][1]))
    valid = _us(POINTS_VALID_DAYS * DAY_US)
    for at, _, event in events:
        if event[0] == "welcome":
            consumer = event[1]
            ledger.post("earn", consumer, None, WELCOME_POINTS, f"welcome:{consumer}", at,
                        [(ledger.account("consumer", consumer), WELCOME_POINTS), (ledger.account("issued"),
                                                                                  -WELCOME_POINTS)],
                        expires_at=at + _us(WELCOME_VALID_DAYS * DAY_US))
        elif event[0] == "expire":  # nothing was spent, so the lapsed bonus is all still there (FIFO)
            consumer = event[1]
            ledger.post("expire", consumer, None, WELCOME_POINTS, f"expire:{consumer}:1", at,
                        [(ledger.account("consumer", consumer), -WELCOME_POINTS), (ledger.account("expired"),
                                                                                   WELCOME_POINTS)])
        else:
            _, oid, consumer, merchant, points = event
            ledger.post("earn", consumer, merchant, points, f"order:{oid}", at,
                        [(ledger.account("consumer", consumer), points),
                         (ledger.account("issued", merchant=merchant), -points)], expires_at=at + valid)
    keys = list(ledger.accounts)
    account_ids = dict(zip(keys, ids("points_accounts", len(keys)).tolist()))
    txn_ids = ids("points_transactions", len(ledger.txns)).tolist()
    entry_ids = ids("points_entries", len(ledger.legs)).tolist()
    accounts = dict(id=[account_ids[k] for k in keys], kind=[k[0] for k in keys], owner_key=[k[1] for k in keys],
                    consumer_id=[ledger.accounts[k]["consumer_id"] for k in keys],
                    merchant_id=[ledger.accounts[k]["merchant_id"] for k in keys],
                    balance=[ledger.accounts[k]["balance"] for k in keys],
                    updated_at=[ledger.accounts[k]["updated_at"] for k in keys])
    txns = {name: [t[name] for t in ledger.txns] for name in ledger.txns[0]} if ledger.txns else {
        name: [] for name in ("kind", "consumer_id", "merchant_id", "points", "reference", "reverses_id",
                              "expires_at", "created_at")}
    txns = dict(id=txn_ids, **txns)
    entries: dict[str, list] = dict(id=entry_ids, transaction_id=[], account_id=[], delta=[], created_at=[])
    for entry_id, (position, key, delta) in zip(entry_ids, ledger.legs):
        txn = ledger.txns[position]
        entries["transaction_id"].append(txn_ids[position])
        entries["account_id"].append(account_ids[key])
        entries["delta"].append(delta)
        entries["created_at"].append(txn["created_at"])
        facts.add("points.entry", txn["created_at"], {"entry_id": entry_id, "transaction_id": txn_ids[position],
                                                      "account": key[0], "delta_points": delta,
                                                      "reason": txn["kind"], "reference": txn["reference"]},
                  merchant_id=txn["merchant_id"], consumer_id=txn["consumer_id"])
    return [("points_accounts", accounts), ("points_transactions", txns), ("points_entries", entries)]


# --- follows, tiers, memberships -------------------------------------------------------------------------


def _follows(rng, paid, creator_of: dict[int, int], chain_merchant_id: int, ids, now, facts: Facts) -> list:
    first: dict[tuple[int, int], np.datetime64] = {}
    spend: dict[tuple[int, int], int] = defaultdict(int)
    orders_of: dict[int, int] = defaultdict(int)
    for _, consumer, merchant, fen, at in paid:
        first.setdefault((consumer, merchant), at)
        spend[(consumer, merchant)] += fen
        orders_of[merchant] += 1
    busiest = sorted((m for m in orders_of if m != chain_merchant_id), key=lambda m: (-orders_of[m], m))
    tiered = [chain_merchant_id] + busiest[:TIERED_MERCHANTS]
    tier_rows: dict[str, list] = defaultdict(list)
    tier_ids = iter(ids("member_tiers", len(tiered) * len(TIERS)).tolist())
    tiers_of: dict[int, list[tuple[int, int]]] = {}  # merchant -> [(min spend, tier id)] highest first
    start = now - _us(90 * DAY_US)
    for merchant in tiered:
        tiers_of[merchant] = []
        for name, rank, min_spend in TIERS:
            tid = next(tier_ids)
            for key, value in dict(id=tid, scope=f"merchant:{merchant}", merchant_id=merchant, name=name, rank=rank,
                                   min_spend_fen=min_spend, min_points=None, discount_percent=0,
                                   points_multiplier_pct=100, created_at=start).items():
                tier_rows[key].append(value)
            tiers_of[merchant].insert(0, (min_spend, tid))
    pairs = sorted(p for p in first if rng.random() < FOLLOW_SHARE)
    follows: dict[str, list] = dict(consumer_id=[], merchant_id=[], created_at=[])
    members: dict[str, list] = defaultdict(list)
    member_ids = ids("memberships", len(pairs)).tolist()
    for mid, (consumer, merchant) in zip(member_ids, pairs):
        at = min(first[(consumer, merchant)] + _us(rng.uniform(5, 600) * MINUTE_US), now)  # after the first buy
        follows["consumer_id"].append(consumer)
        follows["merchant_id"].append(merchant)
        follows["created_at"].append(at)
        facts.add("follow.created", at, {"merchant_id": merchant}, merchant_id=merchant, consumer_id=consumer)
        total = spend[(consumer, merchant)]
        tier = next((tid for floor, tid in tiers_of.get(merchant, []) if total >= floor), None)
        for key, value in dict(id=mid, consumer_id=consumer, scope=f"merchant:{merchant}", merchant_id=merchant,
                               tier_id=tier, since=at, tier_since=now if tier else None, rolling_spend_fen=total,
                               last_evaluated_at=now).items():
            members[key].append(value)
    return [("member_tiers", dict(tier_rows)), ("follows", follows), ("memberships", dict(members))]
