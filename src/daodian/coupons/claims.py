"""Claiming coupons: one claim in one short writing transaction of a few Core statements (a flash sale's
many at once: coupons.claim_sets, written in batches by coupons.claim_batches).

A claim is exact under any load because it is one conditional UPDATE of a stock slot (`remaining > 0`,
coupons.stock) and one INSERT of the coupon, in one transaction: the database, not the application,
decides who got the last coupon. The per-user limit is a unique key: the n-th coupon of a consumer from
a template carries `claim_no` n, so two parallel claims by one consumer compete for the same key and one
of them rolls back (its decrement with it).

A crowd claims one template at once, so the work per claim is kept small: the template's terms are
read once per process (templates never change once made: no route edits them), and a template seen
sold out is refused from memory (stock never comes back: a refund restores the consumer's coupon, not
the pool).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from daodian.coupons import stock
from daodian.coupons.errors import ClaimLimitReached, NotClaimable, SoldOut, TemplateNotFound
from daodian.coupons.models import Coupon, CouponStatus, CouponStock, CouponTemplate
from daodian.coupons.schemas import CouponRead, TemplateRead
from daodian.kit import codes
from daodian.kit.clock import utcnow
from daodian.kit.db import core_transaction
from daodian.kit.facts import INSERT_FACT, fact_values

CLAIM_ATTEMPTS = 3  # a lost race for the same claim_no is retried with the next number
TERMS_KEPT = 1024  # templates whose terms a process keeps (a few are claimed at any time)

# Built once: building a statement per claim cost more than running it.
_HELD = select(func.count()).select_from(Coupon).where(Coupon.template_id == bindparam("template_id"),
                                                       Coupon.consumer_id == bindparam("consumer_id"))
_REMAINING = select(func.coalesce(func.sum(CouponStock.remaining), 0)).where(
    CouponStock.template_id == bindparam("template_id"))
_TERMS = select(CouponTemplate.__table__).where(CouponTemplate.id == bindparam("template_id"))
_INSERT_COUPON = insert(Coupon.__table__)


@dataclass
class ClaimMemo:
    """One process's memory of templates: their terms, and which are sold out."""

    terms: dict[int, TemplateRead] = field(default_factory=dict)
    sold_out: set[int] = field(default_factory=set)

    def remember(self, terms: TemplateRead) -> None:
        if len(self.terms) >= TERMS_KEPT:
            self.terms.pop(next(iter(self.terms)))  # the oldest; terms never go stale, only out of room
        self.terms[terms.id] = terms


def memo_of(app_state: Any) -> ClaimMemo:
    """The memo kept on an app's state (one per app, so tests with fresh databases never share one)."""
    memo = getattr(app_state, "coupon_claims", None)
    if memo is None:
        memo = app_state.coupon_claims = ClaimMemo()
    return memo


def claim(factory: sessionmaker[Session], consumer_id: int, template_id: int, memo: ClaimMemo | None = None
          ) -> CouponRead:
    """Claim one coupon of a template for the consumer, or 404 / 409 sold out, limit reached, not open."""
    memo = memo or ClaimMemo()
    if template_id in memo.sold_out:
        raise SoldOut()
    for _ in range(CLAIM_ATTEMPTS):
        try:
            with core_transaction(factory) as connection:
                return _claim_once(connection, memo, consumer_id, template_id)
        except IntegrityError:  # someone (this consumer, in parallel) took this claim_no first
            continue
        except SoldOut:
            memo.sold_out.add(template_id)
            raise
    raise ClaimLimitReached()


def _checked(connection: Connection, memo: ClaimMemo, consumer_id: int, template_id: int
             ) -> tuple[TemplateRead, int, datetime]:
    """The template's terms, how many of it the consumer holds, and now, after the refusals that need
    no write: not found, not open, at the limit (or sold out, if that is also true)."""
    terms = memo.terms.get(template_id) or load_terms(connection, memo, template_id)
    now = utcnow()
    if not terms.claim_starts_at <= now < terms.claim_ends_at:
        raise NotClaimable("This coupon is not open for claims now.")
    held = connection.scalar(_HELD, {"template_id": template_id, "consumer_id": consumer_id})
    if held >= terms.per_user_limit:
        raise SoldOut() if remaining_of(connection, template_id) <= 0 else ClaimLimitReached()
    return terms, held, now


def _claim_once(connection: Connection, memo: ClaimMemo, consumer_id: int, template_id: int) -> CouponRead:
    terms, held, now = _checked(connection, memo, consumer_id, template_id)
    coupon = give(connection, terms, consumer_id, claim_no=held + 1, channel="online", now=now)
    return read(coupon, terms, remaining_of(connection, template_id))


def read(coupon: dict[str, Any], terms: TemplateRead, remaining: int) -> CouponRead:
    return CouponRead.model_validate({**coupon, "template": terms.model_copy(update={"remaining": remaining})})


def load_terms(connection: Connection, memo: ClaimMemo, template_id: int) -> TemplateRead:
    row = connection.execute(_TERMS, {"template_id": template_id}).mappings().first()
    if row is None or (not row["public"] and row["merchant_id"] is not None):
        raise TemplateNotFound()
    terms = TemplateRead.model_validate({**row, "remaining": 0})  # remaining: read per claim, never kept
    memo.remember(terms)
    return terms


def remaining_of(connection: Connection, template_id: int) -> int:
    return connection.scalar(_REMAINING, {"template_id": template_id})


def give(connection: Connection, terms: TemplateRead, consumer_id: int, *, claim_no: int, channel: str,
         now: datetime, campaign_id: int | None = None) -> dict[str, Any]:
    """Take one coupon from the template's stock and give it to the consumer (coupon and fact rows in the
    caller's transaction); the coupon's columns, or `coupon_sold_out`. A duplicate claim_no raises
    IntegrityError for the caller to roll back and handle."""
    if claim_no > terms.per_user_limit:
        raise ClaimLimitReached()
    if not stock.take_one(connection, terms.id):
        raise SoldOut()
    coupon = coupon_row(terms, consumer_id, claim_no, channel, now, campaign_id)
    coupon["id"] = connection.execute(_INSERT_COUPON, coupon).inserted_primary_key[0]
    connection.execute(INSERT_FACT, fact_row(terms, coupon))
    return coupon


def coupon_row(terms: TemplateRead, consumer_id: int, claim_no: int, channel: str, now: datetime,
               campaign_id: int | None = None) -> dict[str, Any]:
    return {"template_id": terms.id, "consumer_id": consumer_id, "merchant_id": terms.merchant_id,
            "claim_no": claim_no, "code": codes.new_code(), "status": CouponStatus.AVAILABLE, "channel": channel,
            "campaign_id": campaign_id, "claimed_at": now, "valid_from": now,
            "valid_until": terms.valid_until or now + timedelta(days=terms.valid_days), "used_at": None,
            "used_order_id": None, "used_store_id": None, "discount_fen": None, "updated_at": now}


def fact_row(terms: TemplateRead, coupon: dict[str, Any]) -> dict[str, Any]:
    """The `coupon.claimed` (or, from a campaign, `coupon.issued`) fact of a coupon just given."""
    channel = coupon["channel"]
    return fact_values("coupon.issued" if channel == "campaign" else "coupon.claimed",
                       {"coupon_id": coupon["id"], "template_id": terms.id, "campaign_id": coupon["campaign_id"],
                        "channel": channel}, occurred_at=coupon["claimed_at"], merchant_id=terms.merchant_id,
                       consumer_id=coupon["consumer_id"])
