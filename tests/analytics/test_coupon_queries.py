"""The coupon funnel and the online -> offline attribution, against a recount in plain Python of the generated
facts; and the generated facts against analytics.contract (what marketing emits must look the same)."""

from collections import defaultdict

import pandas as pd
from sqlalchemy import select

from daodian.analytics.contract import FACTS, violations
from daodian.analytics.engines import open_engine
from daodian.kit.facts import Fact


def test_generated_facts_follow_the_contract(world):
    problems = [p for f in world.facts for p in violations(f["kind"], f["merchant_id"], f["store_id"],
                                                            f["consumer_id"], f["payload"])]
    assert problems == []
    kinds = {f["kind"] for f in world.facts}
    assert {k for k in FACTS if k.startswith("coupon.")} - {"coupon.voided"} <= kinds


def test_the_contract_catches_a_missing_field():
    assert violations("coupon.used", 1, None, 2, {"coupon_id": 1, "template_id": 1, "campaign_id": None,
                                                  "order_id": None, "record_id": None, "at": "till"}) == [
        "coupon.used: payload lacks discount_fen", "coupon.used: at='till' not in ['checkout', 'counter']"]
    assert violations("coupon.claimed", None, None, 2, {"coupon_id": 1, "template_id": 1, "campaign_id": 1,
                                                        "channel": "online"}) == ["coupon.claimed: merchant_id not set"]


def _expected(facts: list[dict], merchant_id: int):
    mine = sorted((f for f in facts if f["merchant_id"] == merchant_id), key=lambda f: f["_id"])
    paid = {f["payload"]["order_id"]: f["payload"]["amount_fen"] for f in mine if f["kind"] == "order.paid"}
    recorded = {f["payload"]["record_id"]: f["payload"]["total_fen"] for f in mine
                if f["kind"] == "consumption.recorded"}
    issued, claimed, redeemed = defaultdict(set), defaultdict(set), defaultdict(dict)
    online_claim, undone = {}, set()
    for f in mine:
        p, campaign = f["payload"], f["payload"].get("campaign_id") or 0
        if f["kind"] in ("coupon.issued", "coupon.claimed"):
            issued[campaign].add(p["coupon_id"])
        if f["kind"] == "coupon.claimed":
            claimed[campaign].add(p["coupon_id"])
            if p["channel"] == "online":
                online_claim.setdefault(p["coupon_id"], f["_id"])
    used = [f for f in mine if f["kind"] == "coupon.used"]
    for f in mine:
        if f["kind"] in ("coupon.restored", "coupon.voided"):
            undone |= {u["_id"] for u in used if u["payload"]["coupon_id"] == f["payload"]["coupon_id"]
                       and u["_id"] < f["_id"]}
    attributed = defaultdict(lambda: [set(), 0])
    for u in used:
        if u["_id"] in undone:
            continue
        p = u["payload"]
        revenue = paid.get(p["order_id"]) or recorded.get(p["record_id"]) or p.get("amount_fen") or 0
        redeemed[p["campaign_id"] or 0][p["coupon_id"]] = revenue
        if p["at"] == "counter" and online_claim.get(p["coupon_id"], u["_id"]) < u["_id"]:
            attributed[p["campaign_id"] or 0][0].add(p["coupon_id"])
            attributed[p["campaign_id"] or 0][1] += revenue
    return issued, claimed, redeemed, attributed


def test_funnel_and_attribution_match_a_recount(exported, facts_dir, db):
    facts = [{"_id": f.id, "kind": f.kind, "merchant_id": f.merchant_id, "payload": f.payload}
             for f in db.scalars(select(Fact).order_by(Fact.id))]
    engine = open_engine("duckdb", facts_dir)
    try:
        for merchant_id in exported.merchants[:2]:
            issued, claimed, redeemed, attributed = _expected(facts, merchant_id)
            funnel = engine.run("coupon_funnel", {"merchant_id": merchant_id})
            per_campaign = funnel[funnel["store_id"].isna() & funnel["campaign_id"].notna()]
            got = {(r.stage, r.campaign_id): (r.coupons, r.revenue_fen) for r in per_campaign.itertuples()}
            want = {**{("issued", c): (len(v), 0) for c, v in issued.items()},
                    **{("claimed", c): (len(v), 0) for c, v in claimed.items()},
                    **{("redeemed", c): (len(v), sum(v.values())) for c, v in redeemed.items()}}
            assert got == want
            assert set(redeemed) == {1, 2, 3}, "counter and checkout redemptions both occur"

            attribution = engine.run("coupon_attribution", {"merchant_id": merchant_id})
            got = {r.campaign_id: (r.coupons, r.revenue_fen) for r in attribution.itertuples()
                   if pd.notna(r.campaign_id)}
            assert got == {c: (len(s), rev) for c, (s, rev) in attributed.items()} and got
            assert 3 not in got, "checkout redemptions are online sales, not attributed offline"
    finally:
        engine.close()
