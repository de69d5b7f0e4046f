"""Coupons and points at checkout: the glue between an order and marketing / loyalty.

Rules (the order service calls `apply` inside the order's transaction, `release` when it closes unpaid
or is refunded in full):
- the subtotal comes from the catalog lines; the member tier's discount comes off each line first (it is a
  price the member actually pays); the chosen coupons are then judged (满减 thresholds, percentage caps) on
  the lines after it (`redemption.after_tier`, the same amounts the quote uses) and go through
  `redemption.use_at_checkout` (marked used once, however many checkouts race for them); then points: 100 points = 1 元, so one
  point is one fen (`POINTS_PER_YUAN`);
- minimum charge 1 fen (`pricing.most_off`, the rule the quote applies too): every order goes through a
  payment, so the state machine needs no zero-pay path. Points may take the total down to 1 fen and no
  further (422 `points_exceed_total`); a coupon worth the whole order leaves 1 fen to pay (the order's
  `discount_fen` is capped, the coupon's own record keeps its face discount);
- each line carries its share of the coupons' discount (as the pricing rules spread it) plus its
  pro-rata share of the points, to the fen, so refunds can pay back what a line actually cost;
- cancelled / expired unpaid / refunded in full: coupons are released by the marketing rule and the
  points spend is reversed in full. A partial refund keeps both (the discount stays on the lines the
  consumer keeps; the refund is net of the refunded line's discount share).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from daodian.accounts.authz import Principal
from daodian.coupons import pricing, redemption
from daodian.coupons.schemas import CartLineIn, QuoteIn
from daodian.kit.errors import Invalid
from daodian.loyalty import points as ledger
from daodian.loyalty import tiers
from daodian.loyalty.models import PointsTransaction
from daodian.orders.models import Order, OrderLine

POINTS_PER_YUAN = 100  # 1 point = 1 fen


class PointsExceedTotal(Invalid):
    code, message = "points_exceed_total", "These points are worth more than is left to pay."


def apply(session: Session, order: Order, lines: list[OrderLine], coupon_ids: list[int], points: int) -> None:
    """Take the tier discount, coupons and points off the order (already flushed with its lines); fills the
    totals. The member tier's discount comes first, on each line; coupons then come off what is left."""
    tier_percent = tiers.discount_percent(session, order.consumer_id, order.merchant_id)
    if not coupon_ids and not points and not tier_percent:
        return
    subtotal = sum(line.amount_fen for line in lines)
    # at most 50% off, floored: every line keeps at least half, so at least the 1-fen minimum charge
    amounts = tiers.after_discount([line.amount_fen for line in lines], tier_percent)
    discount = subtotal - sum(amounts)
    if coupon_ids:
        _, priced = redemption.priced_lines(session, [
            CartLineIn(sku_id=ln.sku_id, service_item_id=ln.service_item_id, quantity=ln.quantity) for ln in lines])
        tiered = redemption.after_tier(priced, tier_percent)  # what the member pays: coupons are judged on it
        plan = redemption.use_at_checkout(session, order.consumer_id, order.merchant_id, order.store_id, tiered,
                                          list(dict.fromkeys(coupon_ids)), order_id=order.id)
        amounts = _after_plan(plan, tiered, order.merchant_id, order.store_id, amounts)
        discount = subtotal - sum(amounts)
        if discount > pricing.most_off(subtotal):  # the coupons cover it all (every line at 0): one fen stays
            full = [line.amount_fen for line in lines]
            amounts = [a - s for a, s in zip(full, spread(full, pricing.MIN_CHARGE_FEN), strict=True)]
            discount = pricing.most_off(subtotal)
    if points:
        most = pricing.most_off(subtotal - discount)
        if points * 100 // POINTS_PER_YUAN > most:
            raise PointsExceedTotal(details={"max_points": most * POINTS_PER_YUAN // 100})
        amounts = spread(amounts, points * 100 // POINTS_PER_YUAN)
        ledger.spend(session, order.consumer_id, points, spend_reference(order.id), merchant_id=order.merchant_id)
    for line, net in zip(lines, amounts, strict=True):
        line.discount_fen = line.amount_fen - net
    order.discount_fen, order.points_spent, order.total_fen = discount, points, sum(amounts)
    session.flush()


def _after_plan(plan: pricing.Plan, priced: list[pricing.Line], merchant_id: int, store_id: int | None,
                start: list[int]) -> list[int]:
    """Each line's amount after the plan's coupons, spread as pricing spreads them (merchant coupon first),
    from `start` (the lines after the tier discount)."""
    amounts = list(start)
    for applied in sorted(plan.applied, key=lambda a: a.offer.merchant_id is None):
        mask = [pricing.covered(applied.offer, line, merchant_id, store_id) for line in priced]
        amounts = spread(amounts, applied.discount_fen, mask)
    return amounts


def spread(amounts: list[int], off: int, mask: list[bool] | None = None) -> list[int]:
    """Take `off` fen across the masked lines pro rata, largest remainder first."""
    mask = mask or [True] * len(amounts)
    base = sum(a for a, m in zip(amounts, mask, strict=True) if m)
    if off == 0 or base == 0:
        return list(amounts)
    shares = [(a * off // base if m else 0) for a, m in zip(amounts, mask, strict=True)]
    order = sorted((i for i, m in enumerate(mask) if m), key=lambda i: (-((amounts[i] * off) % base), i))
    for i in order[:off - sum(shares)]:
        shares[i] += 1
    return [a - s for a, s in zip(amounts, shares, strict=True)]


def spend_reference(order_id: int) -> str:
    return f"order:{order_id}"


def release(session: Session, order: Order) -> None:
    """Cancelled, expired unpaid or refunded in full: coupons back by the marketing rule, points back."""
    redemption.release_for_order(session, order.id)
    if not order.points_spent:
        return
    spent = session.scalar(select(PointsTransaction.id).where(PointsTransaction.kind == "spend",
                                                              PointsTransaction.reference == spend_reference(order.id)))
    if spent is not None:
        ledger.reverse(session, spent)  # once: a second call returns the first reversal


# --- for the checkout pages -----------------------------------------------------------------------


def page_offer(session: Session, principal: Principal, lines: list[CartLineIn], store_id: int | None) -> dict:
    """The checkout page's coupon picker: the best combination (preselected) and why, and the points balance."""
    if not principal.is_authenticated or not lines:
        return {"quote": None, "balance": 0}
    return {"quote": redemption.quote(session, principal, QuoteIn(lines=lines, store_id=store_id)),
            "balance": ledger.balance_of(session, principal.user_id)}


def page_choice(form: FormData) -> tuple[list[int], int]:
    """(coupon ids, points) as posted by the picker; junk is dropped, not fatal (the server re-checks all)."""
    ids = [int(v) for v in form.getlist("coupon_ids") if isinstance(v, str) and v.isdigit() and len(v) < 16][:5]
    raw = form.get("points") or ""
    points = int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else 0
    return list(dict.fromkeys(ids)), points
