"""Synthetic closed-loop facts for the analytics tests, written through the outbox like the domains do.

Merchants of very different sizes (so that cells of every size occur: far below k, around k, far above),
members and anonymous buyers, offline records with refunds, paid online orders with refunds, coupon
campaigns (issued, claimed online or at the counter, used, restored), follows, points and reviews. Facts
follow analytics.contract; the merchants, stores and members are real rows (the facts table has foreign keys).
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from daodian.kit.facts import Fact
from tests.factories import make_merchant, make_store, make_user

START = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@dataclass
class World:
    owner: int = 0  # owns every merchant
    merchants: list[int] = field(default_factory=list)
    stores: dict[int, list[int]] = field(default_factory=dict)
    members: list[int] = field(default_factory=list)
    facts: list[dict] = field(default_factory=list)


def build(db: Session, *, seed: int = 7, sizes: tuple[int, ...] = (400, 120, 40, 8), members: int = 120,
          days: int = 240) -> World:
    """One merchant per entry of `sizes` (its number of offline receipts); returns what was written."""
    rng = random.Random(seed)
    owner = make_user(db, name="店主")
    world = World(owner=owner.id, members=[make_user(db, name=f"会员{n}").id for n in range(members)])
    for n, size in enumerate(sizes):
        merchant = make_merchant(db, owner, name=f"分析商户{n}")
        stores = [make_store(db, merchant, name=f"门店{n}-{s}").id for s in range(1 + n % 3)]
        world.merchants.append(merchant.id)
        world.stores[merchant.id] = stores
        regulars = rng.sample(world.members, k=max(3, min(len(world.members), size // 3)))
        _merchant_facts(world, rng, merchant.id, stores, regulars, size, days)
    for start in range(0, len(world.facts), 2000):
        db.execute(insert(Fact), world.facts[start:start + 2000])
    db.flush()
    return world


def _fact(world: World, kind: str, at: datetime, payload: dict, *, merchant_id: int | None = None,
          store_id: int | None = None, consumer_id: int | None = None) -> None:
    world.facts.append({"kind": kind, "occurred_at": at, "recorded_at": at, "merchant_id": merchant_id,
                        "store_id": store_id, "consumer_id": consumer_id, "payload": payload})


def _merchant_facts(world: World, rng: random.Random, merchant_id: int, stores: list[int], regulars: list[int],
                    size: int, days: int) -> None:
    skus = [merchant_id * 1000 + s for s in range(1, 13)]
    record_ids = iter(range(merchant_id * 100_000, merchant_id * 100_000 + 90_000))
    order_ids = iter(range(merchant_id * 100_000, merchant_id * 100_000 + 90_000))
    coupon_ids = iter(range(merchant_id * 100_000, merchant_id * 100_000 + 90_000))
    at = lambda: START + timedelta(days=rng.randrange(days), minutes=rng.randrange(600))  # noqa: E731
    records = []
    for _ in range(size):  # offline receipts: mostly members, some anonymous; a few refunded later
        member = rng.choice(regulars) if rng.random() < 0.75 else None
        store, when, record_id = rng.choice(stores), at(), next(record_ids)
        lines = [{"sku_id": rng.choice(skus[:8]) if rng.random() < 0.8 else rng.choice(skus), "service_item_id": None,
                  "quantity": rng.randint(1, 3), "amount_fen": rng.randint(5, 400) * 100} for _ in range(rng.randint(1, 3))]
        total = sum(line["amount_fen"] for line in lines)
        _fact(world, "consumption.recorded", when, {
            "record_id": record_id, "receipt_id": f"R{record_id}", "source": "pos",
            "identified_by": "phone" if member else "none", "total_fen": total, "currency": "CNY", "lines": lines,
        }, merchant_id=merchant_id, store_id=store, consumer_id=member)
        records.append((record_id, store, member, when, total))
        if rng.random() < 0.05:
            back = lines[:1]
            _fact(world, "consumption.refunded", when + timedelta(days=1), {
                "record_id": record_id, "receipt_id": f"C{record_id}", "total_fen": back[0]["amount_fen"],
                "currency": "CNY", "lines": back}, merchant_id=merchant_id, store_id=store, consumer_id=member)
    for _ in range(size // 4):  # online orders, paid; some refunded
        member, when, order_id = rng.choice(world.members), at(), next(order_ids)
        lines = [{"sku_id": rng.choice(skus), "service_item_id": None, "quantity": 1, "unit_price_fen": 9900,
                  "amount_fen": 9900}]
        _fact(world, "order.created", when, {"order_id": order_id, "kind": "product", "total_fen": 9900,
                                             "fulfilment": "pickup", "lines": lines},
              merchant_id=merchant_id, store_id=stores[0], consumer_id=member)
        paid = 9900 - (500 if rng.random() < 0.3 else 0)  # a coupon took 5 yuan off some orders
        if paid < 9900:  # claimed online, used at checkout
            coupon = {"coupon_id": next(coupon_ids), "template_id": 30, "campaign_id": 3}
            _fact(world, "coupon.claimed", when - timedelta(hours=2), {**coupon, "channel": "online"},
                  merchant_id=merchant_id, consumer_id=member)
            _fact(world, "coupon.used", when + timedelta(minutes=3), {
                **coupon, "order_id": order_id, "record_id": None, "discount_fen": 500, "at": "checkout"},
                merchant_id=merchant_id, store_id=stores[0], consumer_id=member)
        _fact(world, "order.paid", when + timedelta(minutes=3), {
            "order_id": order_id, "payment_id": order_id, "provider": "sandbox", "amount_fen": paid,
            "kind": "product"}, merchant_id=merchant_id, store_id=stores[0], consumer_id=member)
        if rng.random() < 0.1:
            _fact(world, "order.refunded", when + timedelta(days=2), {
                "refund_id": order_id, "order_id": order_id, "payment_id": order_id, "provider": "sandbox",
                "amount_fen": paid, "voided_uses": {}, "reason": ""}, merchant_id=merchant_id, store_id=stores[0],
                consumer_id=member)
    for campaign in (1, 2):  # coupon campaigns: issued, claimed, used online or at the counter, restored
        for _ in range(size // (2 * campaign)):
            member, when, coupon_id = rng.choice(world.members), at(), next(coupon_ids)
            base = {"coupon_id": coupon_id, "template_id": campaign * 10, "campaign_id": campaign}
            # analytics.contract: a coupon is either pushed by the campaign or taken by the consumer.
            pushed = rng.random() < 0.3
            channel = "campaign" if pushed else ("online" if rng.random() < 0.7 else "counter")
            _fact(world, "coupon.issued" if pushed else "coupon.claimed", when, {**base, "channel": channel},
                  merchant_id=merchant_id, consumer_id=member)
            if rng.random() < 0.75:
                if rng.random() < 0.6 and records:
                    record_id, store, _, rec_at, _ = rng.choice(records)
                    # Half the counter redemptions have no receipt: the amount paid comes with the fact.
                    tied = rng.random() < 0.5
                    _fact(world, "coupon.used", when + timedelta(days=1), {
                        **base, "order_id": None, "record_id": record_id if tied else None, "discount_fen": 500,
                        "at": "counter", **({} if tied else {"amount_fen": rng.randint(20, 300) * 100})},
                        merchant_id=merchant_id, store_id=store, consumer_id=member)
                    if rng.random() < 0.1:
                        _fact(world, "coupon.restored", when + timedelta(days=2), base, merchant_id=merchant_id,
                              store_id=store, consumer_id=member)
                elif rng.random() < 0.3:
                    _fact(world, "coupon.expired", when + timedelta(days=30), base, merchant_id=merchant_id,
                          consumer_id=member)
    for member in rng.sample(regulars, k=len(regulars) // 2):  # follows, points, reviews
        when = at()
        _fact(world, "follow.created", when, {"merchant_id": merchant_id}, merchant_id=merchant_id, consumer_id=member)
        _fact(world, "points.entry", when, {"entry_id": member, "account": "consumer", "delta_points": 10,
                                            "reason": "follow"}, merchant_id=merchant_id, consumer_id=member)
        _fact(world, "review.created", when, {"review_id": member, "basis": "record", "record_id": None,
                                              "verification_id": None, "rating_experience": rng.randint(1, 5),
                                              "rating_service": 4, "rating_product": None, "text_length": 12},
              merchant_id=merchant_id, store_id=stores[0], consumer_id=member)
