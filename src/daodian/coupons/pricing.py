"""Which coupons a cart may use, what each takes off, and the best combination — pure functions.

Rules (docs in the module so the quote can cite them):
- a coupon applies to the lines its scope covers (its "eligible" amount); a threshold is reached by the
  eligible amount, not the whole cart;
- 满减 takes `amount_fen` off once the threshold is reached; percent takes `percent_off` % (rounded down
  to the fen) at most `cap_fen`; an amount coupon takes `amount_fen`; never more than the eligible amount;
- at most two coupons: one of the merchant's and one of the platform's, both `stackable`; an exclusive
  coupon is used alone. The merchant's coupon applies first; its discount is spread over its lines
  (pro rata, to the fen) and the platform coupon is then judged on what is left of each line;
- the best combination takes the most off; on a tie, fewer coupons, then the one expiring first (use it
  before it lapses), then the lowest coupon id — so the same cart always gets the same answer.
"""

from dataclasses import dataclass, field
from datetime import datetime

from daodian.coupons.models import CouponKind, CouponScope, Stacking


@dataclass(frozen=True)
class Line:
    key: str  # "sku:<id>" | "service_item:<id>"
    category: str  # the product or service category code
    amount_fen: int


@dataclass(frozen=True)
class Offer:
    """A coupon the consumer holds, with its template's terms."""

    coupon_id: int
    template_id: int
    name: str
    merchant_id: int | None  # None: a platform coupon
    kind: CouponKind
    threshold_fen: int
    amount_fen: int | None
    percent_off: int | None
    cap_fen: int | None
    scope: CouponScope
    scope_values: tuple
    stacking: Stacking
    valid_from: datetime
    valid_until: datetime


@dataclass
class Applied:
    offer: Offer
    eligible_fen: int
    discount_fen: int


@dataclass
class Plan:
    applied: list[Applied] = field(default_factory=list)

    @property
    def discount_fen(self) -> int:
        return sum(a.discount_fen for a in self.applied)


def covered(offer: Offer, line: Line, merchant_id: int, store_id: int | None) -> bool:
    if offer.merchant_id is not None and offer.merchant_id != merchant_id:
        return False
    if offer.scope in (CouponScope.PLATFORM, CouponScope.MERCHANT):
        return True
    if offer.scope == CouponScope.STORES:
        return store_id is not None and store_id in offer.scope_values
    if offer.scope == CouponScope.CATEGORIES:
        return any(line.category == code or line.category.startswith(code + ".") for code in offer.scope_values)
    return line.key in offer.scope_values


def discount_on(offer: Offer, eligible_fen: int) -> int:
    if eligible_fen <= 0 or eligible_fen < offer.threshold_fen:
        return 0
    if offer.kind == CouponKind.PERCENT:
        off = eligible_fen * offer.percent_off // 100
        return min(off, offer.cap_fen) if offer.cap_fen is not None else off
    return min(offer.amount_fen or 0, eligible_fen)


def why_not(offer: Offer, lines: list[Line], merchant_id: int, store_id: int | None, now: datetime) -> str | None:
    """The reason code an offer cannot be used on this cart on its own, or None if it can."""
    if now < offer.valid_from:
        return "not_yet_valid"
    if now >= offer.valid_until:
        return "expired"
    if offer.merchant_id is not None and offer.merchant_id != merchant_id:
        return "other_merchant"
    eligible = sum(line.amount_fen for line in lines if covered(offer, line, merchant_id, store_id))
    if eligible == 0:
        return "store_out_of_scope" if offer.scope == CouponScope.STORES else "out_of_scope"
    if discount_on(offer, eligible) == 0:
        return "below_threshold"
    return None


def _apply(offer: Offer, amounts: list[int], lines: list[Line], merchant_id: int, store_id: int | None
           ) -> tuple[Applied, list[int]]:
    """Apply one offer to the current line amounts; returns it and the amounts after its discount."""
    mask = [covered(offer, line, merchant_id, store_id) for line in lines]
    eligible = sum(a for a, m in zip(amounts, mask, strict=True) if m)
    off = discount_on(offer, eligible)
    return Applied(offer, eligible, off), _spread(amounts, mask, off)


def _spread(amounts: list[int], mask: list[bool], off: int) -> list[int]:
    """Take `off` from the masked lines pro rata, to the fen (largest remainder)."""
    eligible = sum(a for a, m in zip(amounts, mask, strict=True) if m)
    if off == 0 or eligible == 0:
        return list(amounts)
    shares = [(a * off // eligible if m else 0) for a, m in zip(amounts, mask, strict=True)]
    rest = off - sum(shares)
    order = sorted((i for i, m in enumerate(mask) if m), key=lambda i: -((amounts[i] * off) % eligible))
    for i in order[:rest]:
        shares[i] += 1
    return [a - s for a, s in zip(amounts, shares, strict=True)]


def plan_for(offers: list[Offer], lines: list[Line], merchant_id: int, store_id: int | None) -> Plan | None:
    """Apply these offers in order (merchant first); None when one of them would take nothing off."""
    amounts = [line.amount_fen for line in lines]
    plan = Plan()
    for offer in sorted(offers, key=lambda o: o.merchant_id is None):
        applied, amounts = _apply(offer, amounts, lines, merchant_id, store_id)
        if applied.discount_fen == 0:
            return None
        plan.applied.append(applied)
    return plan


def may_combine(a: Offer, b: Offer) -> bool:
    return (a.stacking == Stacking.STACKABLE and b.stacking == Stacking.STACKABLE and a.template_id != b.template_id
            and (a.merchant_id is None) != (b.merchant_id is None))


def best_plan(offers: list[Offer], lines: list[Line], merchant_id: int, store_id: int | None) -> Plan:
    candidates = [p for o in offers if (p := plan_for([o], lines, merchant_id, store_id))]
    for i, a in enumerate(offers):
        for b in offers[i + 1:]:
            if may_combine(a, b) and (p := plan_for([a, b], lines, merchant_id, store_id)):
                candidates.append(p)
    if not candidates:
        return Plan()
    return min(candidates, key=lambda p: (-p.discount_fen, len(p.applied),
                                          min(a.offer.valid_until for a in p.applied),
                                          sorted(a.offer.coupon_id for a in p.applied)))


def explain(plan: Plan, considered: int, subtotal_fen: int) -> list[str]:
    if not plan.applied:
        return [f"None of your {considered} coupon(s) applies to this cart."]
    lines = [f"{a.offer.name}: {a.discount_fen} fen off {a.eligible_fen} fen of eligible items" for a in plan.applied]
    lines.append(f"Best of {considered} coupon(s): {plan.discount_fen} fen off {subtotal_fen} fen, the most any "
                 "allowed combination takes off (ties: fewer coupons, then the one expiring first).")
    return lines


# --- the minimum charge ---------------------------------------------------------------------------------

MIN_CHARGE_FEN = 1


def most_off(amount_fen: int) -> int:
    """The most that coupons and points together may take off `amount_fen`: all of it but the minimum charge
    of 1 fen, because every order goes through a payment (the order state machine has no zero-pay path).
    The one rule for checkout (checkout.discounts) and the quote (redemption.quote)."""
    return max(0, amount_fen - MIN_CHARGE_FEN)
