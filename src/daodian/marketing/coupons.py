"""Coupon templates and claims.

A claim is exact under any load because it is one conditional UPDATE of the template's `remaining`
counter (`remaining > 0`, inside the claim window) and one INSERT of the coupon, in one transaction:
the database, not the application, decides who got the last coupon. The per-user limit is a unique
key: the n-th coupon of a consumer from a template carries `claim_no` n, so two parallel claims by one
consumer compete for the same key and one of them rolls back (its decrement with it).

Before that transaction a read-only check refuses a sold-out template or a consumer at their limit
without taking any write lock: rejections after a sell-out cost one indexed read.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Action, Principal, authorize, require_login, require_operator
from daodian.catalog.models import Product, ProductCategory, ServiceCategory, ServiceItem, Sku
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import append_fact
from daodian.marketing.errors import (
    ClaimLimitReached,
    NotClaimable,
    SoldOut,
    TemplateInvalid,
    TemplateNotFound,
)
from daodian.marketing.models import Coupon, CouponScope, CouponStatus, CouponTemplate
from daodian.marketing.schemas import CouponRead, TemplateCreate, TemplateRead
from daodian.merchants.models import Store
from daodian.orders import codes

CLAIM_ATTEMPTS = 3  # a lost race for the same claim_no is retried with the next number


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
        total_quantity=data.total_quantity, remaining=data.total_quantity, per_user_limit=data.per_user_limit,
        public=data.public, created_by=principal.user_id)
    session.add(template)
    session.flush()
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


# --- claims --------------------------------------------------------------------------------------------


def claim(factory: sessionmaker[Session], principal: Principal, template_id: int,
          sold_out: set[int] | None = None) -> tuple[Coupon, CouponTemplate]:
    """Claim one coupon of a template for the caller: (coupon, template), or 409 sold out / limit reached.

    `sold_out` is the process's memo of templates seen sold out: stock never comes back to a template
    (a refund restores the consumer's coupon, not the pool), so once sold out, always sold out, and the
    rejection costs no database round trip. The database stays the judge of every success.
    """
    require_login(principal)
    if sold_out is not None and template_id in sold_out:
        raise SoldOut()
    try:
        for _ in range(CLAIM_ATTEMPTS):
            with unit_of_work(factory, read_only=True) as session:
                template, held = _precheck(session, principal.user_id, template_id, utcnow())
            try:
                with unit_of_work(factory) as session:
                    return issue(session, template_id, principal.user_id, claim_no=held + 1, channel="online"), template
            except IntegrityError:  # someone (this consumer, in parallel) took this claim_no first
                continue
    except SoldOut:
        if sold_out is not None:
            sold_out.add(template_id)
        raise
    raise ClaimLimitReached()


def _precheck(session: Session, consumer_id: int, template_id: int, now: datetime) -> tuple[CouponTemplate, int]:
    """The template and how many of it the consumer holds, after refusing what is refused anyway
    (no write lock is taken for a refusal)."""
    template = session.get(CouponTemplate, template_id)
    if template is None or (not template.public and template.merchant_id is not None):
        raise TemplateNotFound()
    if not template.claim_starts_at <= now < template.claim_ends_at:
        raise NotClaimable("This coupon is not open for claims now.")
    if template.remaining <= 0:
        raise SoldOut()
    held = session.scalar(select(func.count()).select_from(Coupon).where(
        Coupon.template_id == template_id, Coupon.consumer_id == consumer_id)) or 0
    if held >= template.per_user_limit:
        raise ClaimLimitReached()
    return template, held


def issue(session: Session, template_id: int, consumer_id: int, *, claim_no: int, channel: str,
          campaign_id: int | None = None) -> Coupon:
    """Take one from the template's stock and give it to the consumer, or raise `coupon_sold_out`.

    The single conditional UPDATE is the whole stock check; the caller's transaction rolls it back if
    the INSERT then fails (a duplicate claim_no raises IntegrityError for the caller to handle).
    """
    now = utcnow()
    taken = session.execute(
        update(CouponTemplate)
        .where(CouponTemplate.id == template_id, CouponTemplate.remaining > 0,
               CouponTemplate.claim_starts_at <= now, CouponTemplate.claim_ends_at > now)
        .values(remaining=CouponTemplate.remaining - 1)
        .returning(CouponTemplate.merchant_id, CouponTemplate.valid_until, CouponTemplate.valid_days,
                   CouponTemplate.per_user_limit)
    ).first()
    if taken is None:
        raise SoldOut()
    merchant_id, valid_until, valid_days, limit = taken
    if claim_no > limit:
        raise ClaimLimitReached()
    coupon = Coupon(template_id=template_id, consumer_id=consumer_id, merchant_id=merchant_id, claim_no=claim_no,
                    code=codes.new_code(), status=CouponStatus.AVAILABLE, channel=channel, campaign_id=campaign_id,
                    claimed_at=now, valid_from=now,
                    valid_until=valid_until if valid_until is not None else now + timedelta(days=valid_days))
    session.add(coupon)
    session.flush()
    kind = "coupon.issued" if channel == "campaign" else "coupon.claimed"
    append_fact(session, kind, {"coupon_id": coupon.id, "template_id": template_id, "campaign_id": campaign_id,
                                "channel": channel}, occurred_at=now, merchant_id=merchant_id, consumer_id=consumer_id)
    return coupon


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
