"""Coupon templates, issuing them, the consumer's coupons.

Templates are made here with their stock (coupons.stock); consumers claim them through
coupons.claims, campaigns issue them through `issue`, both by the same conditional take.
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize, require_operator
from daodian.catalog.models import Product, Sku
from daodian.coupons import claims, stock
from daodian.coupons.errors import SoldOut, TemplateInvalid, TemplateNotFound
from daodian.coupons.models import Coupon, CouponScope, CouponStatus, CouponTemplate
from daodian.coupons.schemas import CouponRead, TemplateCreate, TemplateRead
from daodian.kit.clock import utcnow
from daodian.kit.facts import append_fact
from daodian.merchants.models import ServiceItem, Store
from daodian.taxonomy.models import ProductCategory, ServiceCategory

# --- templates ---------------------------------------------------------------------------------------


def create_template(session: Session, principal: Principal, merchant_id: int | None, data: TemplateCreate
                    ) -> CouponTemplate:
    """A merchant's template (its managers), or a platform one (`merchant_id` None: operators only)."""
    if merchant_id is None:
        require_operator(principal)
        if data.scope not in (CouponScope.PLATFORM, CouponScope.CATEGORIES):
            raise TemplateInvalid("A platform coupon applies to everything or to categories.")
    else:
        authorize(principal, Action.CATALOG_MANAGE, merchant_id)
        if data.scope == CouponScope.PLATFORM:
            raise TemplateInvalid("Only the platform issues platform-wide coupons; use scope merchant.")
    values = _checked_scope_values(session, merchant_id, data)
    now = utcnow()
    template = CouponTemplate(
        merchant_id=merchant_id, name=data.name, kind=data.kind, threshold_fen=data.threshold_fen,
        amount_fen=data.amount_fen, percent_off=data.percent_off, cap_fen=data.cap_fen, scope=data.scope,
        scope_values=values, stacking=data.stacking, claim_starts_at=data.claim_starts_at or now,
        claim_ends_at=data.claim_ends_at, valid_until=data.valid_until, valid_days=data.valid_days,
        total_quantity=data.total_quantity, per_user_limit=data.per_user_limit, public=data.public,
        created_by=principal.user_id)
    session.add(template)
    session.flush()
    stock.fill(session, template.id, data.total_quantity)
    return template


def _checked_scope_values(session: Session, merchant_id: int | None, data: TemplateCreate) -> list:
    """Scope values that name real things of this merchant: a typo must not make a coupon apply nowhere."""
    values = list(dict.fromkeys(data.scope_values))
    if data.scope == CouponScope.STORES:
        ids = _ints(values, "store ids")
        found = set(session.scalars(select(Store.id).where(Store.id.in_(ids), Store.merchant_id == merchant_id)))
        _all_found(ids, found, "stores of this merchant")
        return ids
    if data.scope == CouponScope.CATEGORIES:
        known = set(session.scalars(select(ProductCategory.code).where(ProductCategory.code.in_(values))))
        known |= set(session.scalars(select(ServiceCategory.code).where(ServiceCategory.code.in_(values))))
        _all_found(values, known, "category codes")
        return values
    if data.scope == CouponScope.ITEMS:
        skus, items = [], []
        for value in values:
            kind, _, raw = value.partition(":")
            if kind not in ("sku", "service_item") or not raw.isdigit() or len(raw) > 15:
                raise TemplateInvalid('Items are "sku:<id>" or "service_item:<id>".', details={"value": value})
            (skus if kind == "sku" else items).append(int(raw))
        found_skus = set(session.scalars(select(Sku.id).join(Product, Product.id == Sku.product_id)
                                         .where(Sku.id.in_(skus), Product.merchant_id == merchant_id)))
        found_items = set(session.scalars(select(ServiceItem.id).where(ServiceItem.id.in_(items),
                                                                       ServiceItem.merchant_id == merchant_id)))
        _all_found(skus, found_skus, "SKUs of this merchant")
        _all_found(items, found_items, "service items of this merchant")
        return values
    return []


def _ints(values: list[str], what: str) -> list[int]:
    if not all(v.isdigit() and len(v) <= 15 for v in values):
        raise TemplateInvalid(f"Scope values must be {what}.")
    return [int(v) for v in values]


def _all_found(wanted: list, found: set, what: str) -> None:
    missing = [v for v in wanted if v not in found]
    if missing:
        raise TemplateInvalid(f"Unknown {what}.", details={"unknown": missing})


def get_template(session: Session, template_id: int) -> CouponTemplate:
    template = session.get(CouponTemplate, template_id)
    if template is None:
        raise TemplateNotFound()
    return template


def template_read(template: CouponTemplate) -> TemplateRead:
    return TemplateRead.model_validate(template, from_attributes=True)


def claimable_templates_query(merchant_id: int | None, now: datetime):
    """The coupon centre: public templates open for claims with stock left."""
    query = select(CouponTemplate).where(CouponTemplate.public.is_(True), CouponTemplate.remaining > 0,
                                         CouponTemplate.claim_starts_at <= now, CouponTemplate.claim_ends_at > now)
    if merchant_id is not None:
        query = query.where(CouponTemplate.merchant_id == merchant_id)
    return query


# --- issuing (claims: coupons.claims) ---------------------------------------------------------------


def issue(session: Session, template_id: int, consumer_id: int, *, claim_no: int, channel: str,
          campaign_id: int | None = None) -> Coupon:
    """Give the consumer one coupon of the template from its stock (a campaign, or a test's claim), or
    raise `coupon_sold_out` (also outside the claim window: nothing can be taken then). The caller's
    transaction rolls the take back if anything after it fails."""
    now = utcnow()
    template = get_template(session, template_id)
    if not template.claim_starts_at <= now < template.claim_ends_at:
        raise SoldOut()
    row = claims.give(session.connection(), template_read(template), consumer_id, claim_no=claim_no,
                      channel=channel, now=now, campaign_id=campaign_id)
    session.expire(template, ["remaining"])
    return session.get(Coupon, row["id"])


# --- the consumer's coupons ---------------------------------------------------------------------------


def my_coupons_query(consumer_id: int, status: CouponStatus | None):
    query = select(Coupon).where(Coupon.consumer_id == consumer_id)
    if status is not None:
        query = query.where(Coupon.status == status)
    return query


def coupon_read(coupon: Coupon, template: CouponTemplate) -> CouponRead:
    return CouponRead.model_validate({**_columns(coupon), "template": template_read(template)})


def coupon_reads(session: Session, coupons: list[Coupon]) -> list[CouponRead]:
    ids = {c.template_id for c in coupons}
    templates = {t.id: t for t in session.scalars(select(CouponTemplate).where(CouponTemplate.id.in_(ids)))}
    return [CouponRead.model_validate({**_columns(c), "template": template_read(templates[c.template_id])})
            for c in coupons]


def _columns(coupon: Coupon) -> dict:
    return {name: getattr(coupon, name) for name in CouponRead.model_fields if name != "template"}


def expire_due(session: Session, now: datetime | None = None) -> int:
    """Mark available coupons past their validity expired (a job; also safe to run twice)."""
    now = now or utcnow()
    due = session.execute(select(Coupon.id, Coupon.template_id, Coupon.merchant_id, Coupon.consumer_id,
                                 Coupon.campaign_id)
                          .where(Coupon.status == CouponStatus.AVAILABLE, Coupon.valid_until <= now)
                          .order_by(Coupon.id).limit(10_000)).all()
    expired = 0
    for coupon_id, template_id, merchant_id, consumer_id, campaign_id in due:
        changed = session.execute(update(Coupon).where(Coupon.id == coupon_id, Coupon.status == CouponStatus.AVAILABLE)
                                  .values(status=CouponStatus.EXPIRED, updated_at=now)).rowcount
        if changed:
            expired += 1
            append_fact(session, "coupon.expired", {"coupon_id": coupon_id, "template_id": template_id,
                                                    "campaign_id": campaign_id},
                        occurred_at=now, merchant_id=merchant_id, consumer_id=consumer_id)
    return expired
