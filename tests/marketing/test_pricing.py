"""The coupon arithmetic and the choice of the best combination, as pure functions."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from daodian.coupons import pricing
from daodian.coupons.models import CouponKind, CouponScope, Stacking

NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)
MERCHANT = 7


def offer(coupon_id: int, kind=CouponKind.THRESHOLD, *, threshold=0, amount=None, percent=None, cap=None,
          scope=CouponScope.MERCHANT, values=(), stacking=Stacking.EXCLUSIVE, merchant=MERCHANT, days=10) -> pricing.Offer:
    return pricing.Offer(coupon_id, coupon_id, f"c{coupon_id}", merchant, kind, threshold, amount, percent, cap, scope,
                         tuple(values), stacking, NOW - timedelta(days=1), NOW + timedelta(days=days))


OIL = pricing.Line("sku:1", "auto.oil", 29900)
WASH = pricing.Line("service_item:2", "auto_service.car_wash", 5000)


def test_each_kind_takes_what_it_says():
    assert pricing.discount_on(offer(1, threshold=15000, amount=2000), 14999) == 0
    assert pricing.discount_on(offer(1, threshold=15000, amount=2000), 15000) == 2000
    assert pricing.discount_on(offer(1, CouponKind.PERCENT, percent=15, cap=3000), 10001) == 1500  # rounded down
    assert pricing.discount_on(offer(1, CouponKind.PERCENT, percent=15, cap=3000), 90000) == 3000  # capped
    assert pricing.discount_on(offer(1, CouponKind.AMOUNT, amount=800), 500) == 500  # never below zero


def test_scopes_cover_the_right_lines():
    by_category = offer(1, scope=CouponScope.CATEGORIES, values=["auto_service"])
    assert [pricing.covered(by_category, line, MERCHANT, None) for line in (OIL, WASH)] == [False, True]
    by_item = offer(1, scope=CouponScope.ITEMS, values=["sku:1"])
    assert [pricing.covered(by_item, line, MERCHANT, None) for line in (OIL, WASH)] == [True, False]
    by_store = offer(1, scope=CouponScope.STORES, values=[3])
    assert pricing.covered(by_store, OIL, MERCHANT, 3) and not pricing.covered(by_store, OIL, MERCHANT, 4)
    assert not pricing.covered(offer(1), OIL, MERCHANT + 1, None)  # another merchant's coupon
    assert pricing.covered(offer(1, scope=CouponScope.PLATFORM, merchant=None), OIL, MERCHANT + 1, None)


def test_ties_go_to_fewer_coupons_then_the_one_expiring_first():
    late, soon = offer(1, CouponKind.AMOUNT, amount=1000, days=30), offer(2, CouponKind.AMOUNT, amount=1000, days=3)
    assert [a.offer.coupon_id for a in pricing.best_plan([late, soon], [OIL], MERCHANT, None).applied] == [2]


def test_the_platform_coupon_is_judged_on_what_the_merchant_coupon_leaves():
    merchant = offer(1, threshold=20000, amount=5000, stacking=Stacking.STACKABLE)
    platform = offer(2, threshold=25000, amount=1000, stacking=Stacking.STACKABLE, merchant=None,
                     scope=CouponScope.PLATFORM)
    plan = pricing.best_plan([merchant, platform], [OIL], MERCHANT, None)  # 299 - 50 = 249 < 250: no platform
    assert [a.offer.coupon_id for a in plan.applied] == [1] and plan.discount_fen == 5000


@given(amounts=st.lists(st.integers(0, 10**7), min_size=1, max_size=8), off_share=st.floats(0, 1),
       mask=st.lists(st.booleans(), min_size=8, max_size=8))
def test_spreading_a_discount_takes_exactly_it_from_the_covered_lines_only(amounts, off_share, mask):
    mask = mask[:len(amounts)]
    eligible = sum(a for a, m in zip(amounts, mask, strict=True) if m)
    off = int(eligible * off_share)
    after = pricing._spread(amounts, mask, off)
    assert sum(amounts) - sum(after) == off
    assert all(0 <= b <= a for a, b in zip(amounts, after, strict=True))
    assert all(a == b for a, b, m in zip(amounts, after, mask, strict=True) if not m)


@given(st.lists(st.tuples(st.sampled_from(list(CouponKind)), st.integers(0, 40000), st.integers(1, 9000),
                          st.booleans(), st.booleans()), min_size=1, max_size=6),
       st.integers(1, 60000))
def test_the_best_plan_is_at_least_as_good_as_any_single_coupon_and_never_exceeds_the_cart(specs, price):
    offers = []
    for i, (kind, threshold, amount, stackable, platform) in enumerate(specs, start=1):
        stacking = Stacking.STACKABLE if stackable else Stacking.EXCLUSIVE
        merchant = None if platform else MERCHANT
        scope = CouponScope.PLATFORM if platform else CouponScope.MERCHANT
        if kind == CouponKind.PERCENT:
            offers.append(offer(i, kind, threshold=threshold, percent=amount % 99 + 1, cap=amount, stacking=stacking,
                                merchant=merchant, scope=scope))
        else:
            offers.append(offer(i, kind, threshold=0 if kind == CouponKind.AMOUNT else max(threshold, amount),
                                amount=amount, stacking=stacking, merchant=merchant, scope=scope))
    lines = [pricing.Line("sku:1", "auto.oil", price)]
    best = pricing.best_plan(offers, lines, MERCHANT, None)
    singles = [pricing.discount_on(o, price) for o in offers]
    assert best.discount_fen >= max(singles) and best.discount_fen <= price
    assert len(best.applied) <= 2
    if len(best.applied) == 2:
        assert pricing.may_combine(best.applied[0].offer, best.applied[1].offer)
