"""The facts the analytics read: kind -> the columns and payload fields its queries rely on.

Domains append these through `kit.facts.append_fact` in the same transaction as the change. The export
(analytics.export) lifts the payload fields named in ID_FIELDS and the amount/channel fields into typed
Parquet columns; the queries (analytics.queries) read nothing else. tests/analytics/test_contract.py
holds the generated test facts to this contract, so a query never silently reads a field nobody writes.

Coupons and follows come from marketing/loyalty; the funnel and the attribution read exactly these:

- `coupon.issued`   a campaign put a coupon in a consumer's wallet (channel "campaign").
- `coupon.claimed`  the consumer took a coupon themselves; channel "online" (app, web) or "counter".
                    A coupon has exactly one of issued/claimed: together they are the funnel's "issued"
                    stage (every coupon that reached a consumer), claimed alone is its "claimed" stage.
- `coupon.used`     redeemed; `at` "checkout" (an online order: order_id) or "counter" (in the shop:
                    store_id, record_id if a receipt was recorded). Revenue of a redemption: the paid
                    order's amount, else the receipt's total, else the payload's `amount_fen` (what the
                    customer paid after the discount, which the counter knows), else 0.
- `coupon.restored` / `coupon.voided`  a refund undid the redemption (it no longer counts as redeemed).
- `coupon.expired`  validity ended unused (shown to the operator as a kind count; not a funnel stage).
- `follow.created`  a consumer followed the merchant (consumer_id set): follow -> purchase attribution.
- `follow.deleted`  the consumer unfollowed (follows.service); the membership stays.
- `points.entry`    a points ledger entry (account, delta_points).
- `membership.tier_changed`  a member's tier moved (loyalty.tiers): `reason` "evaluation" (the scheduled
                    `daodian tiers evaluate`; `direction` up, down or same rank) or "tier_deleted" (the merchant
                    deleted the tier: the member is left without one until the next evaluation). from/to tier
                    ids are null for "no tier"; merchant_id is null for the platform's own tiers.
- `campaign.sent`   a segment campaign of a post was sent (campaigns.posts): the segment and the size
                    of its audience, never who (coupon campaigns have no such fact: each coupon they put in a
                    wallet is its own `coupon.issued` with the campaign_id).

Every coupon fact carries consumer_id (a column of the fact, not of the payload) and the payload fields
coupon_id, template_id and campaign_id (null when outside a campaign: reported as 0); merchant_id is set on
every fact of a merchant's coupon.

Platform coupons belong to no merchant until used: their issued/claimed/expired facts have no merchant_id,
are exported to the `na` bucket, and are counted on the operator dashboard only (fact kinds); they never
enter a merchant's funnel, so a merchant cannot learn how many of the platform's coupons others hold. Their
`coupon.used` carries the merchant where it was redeemed (coupons.redemption._mark_used), so that
merchant's funnel and attribution show the redemption and its revenue under the platform campaign's id, at
the redeemed stage only (issued/claimed of that row stay empty: they happened at the platform).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    columns: frozenset[str]  # fact columns that must be set (merchant_id, store_id, consumer_id)
    required: frozenset[str]  # payload fields that must be present (their value may be null where noted)
    optional: frozenset[str] = frozenset()
    values: tuple[tuple[str, frozenset[str]], ...] = ()  # payload field -> allowed values


def _kind(columns: str, required: str, optional: str = "", **values: str) -> Kind:
    return Kind(frozenset(columns.split()), frozenset(required.split()), frozenset(optional.split()),
                tuple((name, frozenset(allowed.split())) for name, allowed in values.items()))


COUPON = "coupon_id template_id campaign_id"
LINE_FIELDS = frozenset({"quantity", "amount_fen"})  # and one of sku_id / service_item_id

FACTS: dict[str, Kind] = {
    # sales (orders, payments, refunds, offline receipts): the sales view
    "order.created": _kind("merchant_id consumer_id", "order_id total_fen lines"),
    "order.paid": _kind("merchant_id consumer_id", "order_id amount_fen", "payment_id provider"),
    "order.refunded": _kind("merchant_id", "order_id amount_fen", "refund_id payment_id"),
    "consumption.recorded": _kind("merchant_id store_id", "record_id total_fen lines", "currency receipt_id"),
    "consumption.refunded": _kind("merchant_id store_id", "total_fen lines", "record_id currency receipt_id"),
    # coupons: the funnel and the attribution
    "coupon.issued": _kind("merchant_id consumer_id", f"{COUPON} channel", channel="campaign"),
    "coupon.claimed": _kind("merchant_id consumer_id", f"{COUPON} channel", channel="online counter"),
    "coupon.used": _kind("merchant_id consumer_id", f"{COUPON} order_id record_id discount_fen at", "amount_fen",
                         at="checkout counter"),
    "coupon.restored": _kind("merchant_id consumer_id", COUPON, "order_id"),
    "coupon.voided": _kind("merchant_id consumer_id", COUPON, "order_id"),
    "coupon.expired": _kind("merchant_id consumer_id", COUPON),
    # loyalty
    "follow.created": _kind("merchant_id consumer_id", "", "merchant_id"),
    "follow.deleted": _kind("merchant_id consumer_id", "", "merchant_id"),
    "points.entry": _kind("consumer_id", "entry_id account delta_points", "reason"),
    "membership.tier_changed": _kind("consumer_id", "membership_id scope from_tier_id to_tier_id reason direction",
                                     reason="evaluation tier_deleted", direction="up down same"),
    # campaigns of posts (campaigns.posts)
    "campaign.sent": _kind("merchant_id", "campaign_id post_id segment audience issued channel", "inactive_days",
                           channel="post"),
    # pre-sales by vote (c2b.presale.service, c2b.presale.close)
    "presale.voted": _kind("merchant_id consumer_id", "presale_id candidate_id vote_id order_id deposit_fen"),
    "presale.closed": _kind("merchant_id", "presale_id candidates"),
    # group buys (c2b.group_buy.service)
    "group_buy.joined": _kind("merchant_id consumer_id", "group_buy_id order_id price_fen"),
    "group_buy.settled": _kind("merchant_id", "group_buy_id outcome participants final_price_fen",
                               outcome="settled failed"),
}


def violations(kind: str, merchant_id, store_id, consumer_id, payload: dict) -> list[str]:
    """What is wrong with one fact of a kind the analytics read ([] if fine or the kind is not read)."""
    spec = FACTS.get(kind)
    if spec is None:
        return []
    problems = [f"{kind}: {name} not set" for name, value in
                (("merchant_id", merchant_id), ("store_id", store_id), ("consumer_id", consumer_id))
                if name in spec.columns and value is None]
    problems += [f"{kind}: payload lacks {name}" for name in sorted(spec.required - set(payload))]
    for name, allowed in spec.values:
        if name in payload and payload[name] not in allowed:
            problems.append(f"{kind}: {name}={payload[name]!r} not in {sorted(allowed)}")
    for line in payload.get("lines") or []:
        if not set(line) >= LINE_FIELDS or (line.get("sku_id") is None and line.get("service_item_id") is None):
            problems.append(f"{kind}: a line lacks quantity, amount_fen or an item")
    return problems
