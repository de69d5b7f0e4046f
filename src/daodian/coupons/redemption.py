"""Using coupons: the checkout quote, the seam the order service calls, the counter, and refunds.

The seam for orders (src/daodian/orders is another owner's; nothing there calls this yet):
1. at order creation, inside the order's transaction, after pricing the lines:
   `plan = redemption.use_at_checkout(session, consumer_id, merchant_id, store_id, lines, coupon_ids,
   order_id=order.id)` with `lines` as `pricing.Line`s after the member tier's discount (`after_tier`: the
   quote judges coupons on the same amounts); it marks the coupons used (conditional
   UPDATE: a coupon is used once however many checkouts race for it), appends `coupon.used` facts and
   returns the plan; the order stores `plan.discount_fen` and charges `subtotal - discount`;
2. when an order is cancelled, expires unpaid, or is refunded in full: `release_for_order(session,
   order_id)` in that transaction.

Refund rule: a coupon used on an order that is cancelled, expires unpaid or is refunded in full comes
back to its holder if it is still within its validity (`coupon.restored`), and is voided otherwise
(`coupon.voided`); a partial refund keeps the coupon used (the discount stays spread over the lines
the consumer keeps). A coupon redeemed at the counter is settled there; it is not restored.
"""

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize
from daodian.catalog.models import Product, Sku
from daodian.coupons import pricing
from daodian.coupons.errors import CouponExpired, CouponNotFound, CouponUnusable, CouponUsed
from daodian.coupons.models import Coupon, CouponScope, CouponStatus, CouponTemplate
from daodian.coupons.schemas import (
    AppliedCoupon,
    CartLineIn,
    CounterRedeemIn,
    CounterRedeemRead,
    QuoteIn,
    QuoteRead,
    Rejected,
)
from daodian.kit import codes
from daodian.kit.clock import utcnow
from daodian.kit.errors import Invalid, NotFound
from daodian.kit.facts import append_fact
from daodian.loyalty import tiers
from daodian.merchants.models import ServiceItem, Store
from daodian.orders.models import Order
from daodian.records.models import ConsumptionRecord
from daodian.taxonomy.models import CatalogStatus, ProductCategory, ServiceCategory


def priced_lines(session: Session, lines: list[CartLineIn]) -> tuple[int, list[pricing.Line]]:
    """(merchant id, lines priced from the catalog); 404 for unknown items, 422 for two merchants."""
    merchants, out = set(), []
    for line in lines:
        if line.sku_id is not None:
            row = session.execute(
                select(Sku.price_fen, Sku.status, Product.status, Product.merchant_id, ProductCategory.code)
                .join(Product, Product.id == Sku.product_id)
                .join(ProductCategory, ProductCategory.id == Product.category_id).where(Sku.id == line.sku_id)).first()
            key = f"sku:{line.sku_id}"
        else:
            row = session.execute(
                select(ServiceItem.price_fen, ServiceItem.status, ServiceItem.status, ServiceItem.merchant_id,
                       ServiceCategory.code)
                .join(ServiceCategory, ServiceCategory.id == ServiceItem.category_id)
                .where(ServiceItem.id == line.service_item_id)).first()
            key = f"service_item:{line.service_item_id}"
        if row is None or row[1] != CatalogStatus.ACTIVE or row[2] != CatalogStatus.ACTIVE:
            raise NotFound("A line names an item that does not exist or is not for sale.", code="unknown_line_item",
                           details={"item": key})
        price, _, _, merchant_id, category = row
        merchants.add(merchant_id)
        out.append(pricing.Line(key, category, price * line.quantity))
    if len(merchants) != 1:
        raise Invalid("A cart holds items of one merchant only.", code="multiple_merchants")
    return merchants.pop(), out


def offers_of(session: Session, consumer_id: int, merchant_id: int, now: datetime,
              coupon_ids: list[int] | None = None) -> list[pricing.Offer]:
    """The consumer's available coupons of this merchant or the platform (or exactly `coupon_ids`)."""
    query = (select(Coupon, CouponTemplate).join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
             .where(Coupon.consumer_id == consumer_id, Coupon.status == CouponStatus.AVAILABLE)
             .order_by(Coupon.id))
    if coupon_ids is not None:
        query = query.where(Coupon.id.in_(coupon_ids))
    else:
        query = query.where((Coupon.merchant_id == merchant_id) | Coupon.merchant_id.is_(None),
                            Coupon.valid_until > now)
    return [_offer(c, t) for c, t in session.execute(query).all()]


def _offer(coupon: Coupon, t: CouponTemplate) -> pricing.Offer:
    values = tuple(t.scope_values or ())
    return pricing.Offer(coupon.id, t.id, t.name, t.merchant_id, t.kind, t.threshold_fen, t.amount_fen, t.percent_off,
                         t.cap_fen, t.scope, values, t.stacking, coupon.valid_from, coupon.valid_until)


def after_tier(lines: list[pricing.Line], percent: int) -> list[pricing.Line]:
    """The lines as the member pays them before coupons: each line total after the tier discount
    (loyalty.tiers.after_discount). Checkout and the quote both judge coupons on these."""
    return [replace(line, amount_fen=amount)
            for line, amount in zip(lines, tiers.after_discount([ln.amount_fen for ln in lines], percent), strict=True)]


def quote(session: Session, principal: Principal, data: QuoteIn) -> QuoteRead:
    """The best applicable combination of the caller's coupons for this cart (or the chosen ones), and why.

    The member tier's discount comes first, as at checkout: coupons are chosen and judged (thresholds, caps)
    on the line totals after it, and the quote shows it as its own line. Coupons worth the whole cart leave the
    minimum charge to pay (`pricing.most_off`, the rule checkout applies): `discount_fen` is capped there, each
    applied coupon keeps its face discount."""
    merchant_id, listed = priced_lines(session, data.lines)
    now, subtotal = utcnow(), sum(line.amount_fen for line in listed)
    percent = tiers.discount_percent(session, principal.user_id, merchant_id)
    lines = after_tier(listed, percent)
    tiered = sum(line.amount_fen for line in lines)
    offers = offers_of(session, principal.user_id, merchant_id, now, data.coupon_ids)
    if data.coupon_ids is not None:
        plan = _chosen(offers, data.coupon_ids, lines, merchant_id, data.store_id, now)
    else:
        usable = [o for o in offers if pricing.why_not(o, lines, merchant_id, data.store_id, now) is None]
        plan = pricing.best_plan(usable, lines, merchant_id, data.store_id)
    used = {a.offer.coupon_id for a in plan.applied}
    rejected = [Rejected(coupon_id=o.coupon_id, name=o.name, reason=reason) for o in offers
                if o.coupon_id not in used and (reason := pricing.why_not(o, lines, merchant_id, data.store_id, now)
                                                or "not_best")]
    tier_line = [f"Member tier discount: {percent}% off, {subtotal - tiered} fen off {subtotal} fen; coupons "
                 f"are judged on the {tiered} fen left."] if percent else []
    discount = min(plan.discount_fen, pricing.most_off(tiered))
    floor_line = [f"The coupons cover the whole cart; {tiered - discount} fen is left to pay, as every order goes "
                  "through a payment."] if discount < plan.discount_fen else []
    return QuoteRead(subtotal_fen=subtotal, tier_percent=percent, tier_discount_fen=subtotal - tiered,
                     discount_fen=discount, total_fen=tiered - discount,
                     applied=[AppliedCoupon(coupon_id=a.offer.coupon_id, template_id=a.offer.template_id,
                                            name=a.offer.name, discount_fen=a.discount_fen,
                                            eligible_fen=a.eligible_fen) for a in plan.applied],
                     rejected=rejected, explanation=tier_line + pricing.explain(plan, len(offers), tiered) + floor_line)


def _chosen(offers: list[pricing.Offer], coupon_ids: list[int], lines, merchant_id: int, store_id: int | None,
            now: datetime) -> pricing.Plan:
    if len(set(coupon_ids)) != len(offers):
        raise CouponUnusable("A chosen coupon is not yours or is no longer available.",
                             details={"available": sorted(o.coupon_id for o in offers)})
    for offer in offers:
        if reason := pricing.why_not(offer, lines, merchant_id, store_id, now):
            raise CouponUnusable(details={"coupon_id": offer.coupon_id, "reason": reason})
    if len(offers) == 2 and not pricing.may_combine(*offers):
        raise CouponUnusable("These coupons do not combine.", details={"reason": "not_stackable"})
    plan = pricing.plan_for(offers, lines, merchant_id, store_id)
    if plan is None:
        raise CouponUnusable(details={"reason": "below_threshold_after_first_coupon"})
    return plan


# --- the order service's seam -------------------------------------------------------------------------


def use_at_checkout(session: Session, consumer_id: int, merchant_id: int, store_id: int | None,
                    lines: list[pricing.Line], coupon_ids: list[int], *, order_id: int) -> pricing.Plan:
    """Mark the chosen coupons used for this order (in the order's transaction) and return the plan."""
    now = utcnow()
    offers = offers_of(session, consumer_id, merchant_id, now, coupon_ids)
    plan = _chosen(offers, coupon_ids, lines, merchant_id, store_id, now)
    for applied in plan.applied:
        _mark_used(session, applied.offer.coupon_id, now, discount_fen=applied.discount_fen, order_id=order_id,
                   store_id=store_id, at="checkout", merchant_id=merchant_id)
    return plan


def _mark_used(session: Session, coupon_id: int, now: datetime, *, discount_fen: int, order_id: int | None,
               store_id: int | None, at: str, merchant_id: int, record_id: int | None = None,
               amount_fen: int | None = None) -> Coupon:
    """Used once (conditional UPDATE). The fact carries the merchant where it was used: a platform
    coupon has no merchant of its own, and the analytics count redemptions per merchant."""
    used = session.execute(
        update(Coupon).where(Coupon.id == coupon_id, Coupon.status == CouponStatus.AVAILABLE,
                             Coupon.valid_from <= now, Coupon.valid_until > now)
        .values(status=CouponStatus.USED, used_at=now, used_order_id=order_id, used_store_id=store_id,
                discount_fen=discount_fen, updated_at=now).execution_options(synchronize_session=False)).rowcount
    coupon = session.get(Coupon, coupon_id, populate_existing=True)
    if used != 1:
        raise CouponUsed() if coupon.status == CouponStatus.USED else CouponExpired()
    payload = {"coupon_id": coupon.id, "template_id": coupon.template_id, "campaign_id": coupon.campaign_id,
               "order_id": order_id, "record_id": record_id, "discount_fen": discount_fen, "at": at}
    if amount_fen is not None:
        payload["amount_fen"] = amount_fen
    append_fact(session, "coupon.used", payload, occurred_at=now, merchant_id=merchant_id, store_id=store_id,
                consumer_id=coupon.consumer_id)
    return coupon


def release_for_order(session: Session, order_id: int) -> list[Coupon]:
    """The refund rule (module docstring): restore what is still valid, void the rest. Safe to call twice."""
    now, released = utcnow(), []
    order_merchant = session.scalar(select(Order.merchant_id).where(Order.id == order_id))
    for coupon in session.scalars(select(Coupon).where(Coupon.used_order_id == order_id,
                                                       Coupon.status == CouponStatus.USED).with_for_update()):
        restore = coupon.valid_until > now
        coupon.status = CouponStatus.AVAILABLE if restore else CouponStatus.VOIDED
        if restore:
            coupon.used_at = coupon.used_order_id = coupon.used_store_id = coupon.discount_fen = None
        released.append(coupon)
        append_fact(session, "coupon.restored" if restore else "coupon.voided",
                    {"coupon_id": coupon.id, "template_id": coupon.template_id, "campaign_id": coupon.campaign_id,
                     "order_id": order_id}, occurred_at=now, merchant_id=coupon.merchant_id or order_merchant,
                    consumer_id=coupon.consumer_id)
    session.flush()
    return released


# --- the counter --------------------------------------------------------------------------------------


def redeem_at_counter(session: Session, principal: Principal, data: CounterRedeemIn) -> CounterRedeemRead:
    """Staff redeem a consumer's coupon by its code (typed or scanned), like a voucher.

    Only the merchant's own coupons scoped to the whole merchant or to this store are taken at the
    counter (item and category scopes need an itemised cart: use checkout). A code of another
    merchant answers like an unknown one.
    """
    store = session.get(Store, data.store_id)
    if store is None:
        raise NotFound("No such store.", code="store_not_found")
    authorize(principal, Action.COUNTER, store.merchant_id)
    code = codes.normalize(data.code)
    coupon = session.scalar(select(Coupon).where(Coupon.code == code)) if code else None
    if coupon is None or coupon.merchant_id != store.merchant_id:
        raise CouponNotFound()
    template = session.get(CouponTemplate, coupon.template_id)
    if coupon.status == CouponStatus.USED:
        raise CouponUsed()
    now = utcnow()
    if coupon.status != CouponStatus.AVAILABLE or now >= coupon.valid_until:
        raise CouponExpired()
    if template.scope not in (CouponScope.MERCHANT, CouponScope.STORES) or (
            template.scope == CouponScope.STORES and store.id not in template.scope_values):
        raise CouponUnusable(details={"reason": "out_of_scope"})
    offer = _offer(coupon, template)
    off = pricing.discount_on(offer, data.amount_fen)
    if off == 0:
        raise CouponUnusable(details={"reason": "below_threshold", "threshold_fen": template.threshold_fen})
    if data.record_id is not None:
        record = session.get(ConsumptionRecord, data.record_id)
        if record is None or record.store_id != store.id:
            raise NotFound("No such consumption record at this store.", code="record_not_found")
    _mark_used(session, coupon.id, now, discount_fen=off, order_id=None, store_id=store.id, at="counter",
               merchant_id=store.merchant_id, record_id=data.record_id, amount_fen=data.amount_fen)
    return CounterRedeemRead(coupon_id=coupon.id, discount_fen=off, pay_fen=data.amount_fen - off)
