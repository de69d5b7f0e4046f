from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, model_validator

from daodian.coupons.models import CouponKind, CouponScope, CouponStatus, Stacking
from daodian.kit.ids import EntityId
from daodian.kit.money import Fen
from daodian.kit.schemas import InputModel, JsonInt

ScopeValue = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:]+$")]


class TemplateCreate(InputModel):
    """A coupon template. `threshold`: `amount_fen` off from `threshold_fen` (满减 150:20 is threshold_fen
    15000, amount_fen 2000); `percent`: `percent_off` % off, at most `cap_fen`; `amount`: `amount_fen` off,
    no threshold. Validity is a fixed window (`valid_until`) or `valid_days` after the claim."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"[^\s]")]
    kind: CouponKind
    threshold_fen: Fen = 0
    amount_fen: Fen | None = None
    percent_off: Annotated[JsonInt, Field(ge=1, le=99)] | None = None
    cap_fen: Fen | None = None
    scope: CouponScope = CouponScope.MERCHANT
    scope_values: Annotated[list[ScopeValue], Field(max_length=100)] = []
    stacking: Stacking = Stacking.EXCLUSIVE
    claim_starts_at: AwareDatetime | None = None
    claim_ends_at: AwareDatetime
    valid_until: AwareDatetime | None = None
    valid_days: Annotated[JsonInt, Field(ge=1, le=3650)] | None = None
    total_quantity: Annotated[JsonInt, Field(ge=1, le=10_000_000)]
    per_user_limit: Annotated[JsonInt, Field(ge=1, le=100)] = 1
    public: StrictBool = True

    @model_validator(mode="after")
    def _adds_up(self) -> "TemplateCreate":
        if self.kind == CouponKind.PERCENT:
            if self.percent_off is None or self.amount_fen is not None:
                raise ValueError("a percent coupon takes percent_off (and cap_fen), not amount_fen")
        elif self.amount_fen is None or self.amount_fen < 1 or self.percent_off is not None:
            raise ValueError("threshold and amount coupons take amount_fen >= 1, not percent_off")
        if self.kind == CouponKind.THRESHOLD and self.threshold_fen < (self.amount_fen or 0):
            raise ValueError("threshold_fen must be at least amount_fen")
        if self.kind == CouponKind.AMOUNT and self.threshold_fen:
            raise ValueError("an amount coupon has no threshold; use kind threshold")
        if (self.valid_until is None) == (self.valid_days is None):
            raise ValueError("give exactly one of valid_until and valid_days")
        if self.valid_until is not None and self.valid_until < self.claim_ends_at:
            raise ValueError("valid_until must not be before claim_ends_at")
        if self.claim_starts_at is not None and self.claim_ends_at <= self.claim_starts_at:
            raise ValueError("claim_ends_at must be after claim_starts_at")
        needs_values = self.scope in (CouponScope.STORES, CouponScope.CATEGORIES, CouponScope.ITEMS)
        if needs_values != bool(self.scope_values):
            raise ValueError("scope_values are required for stores, categories and items scopes, and only there")
        return self


class TemplateRead(BaseModel):
    id: int
    merchant_id: int | None
    name: str
    kind: CouponKind
    threshold_fen: int
    amount_fen: int | None
    percent_off: int | None
    cap_fen: int | None
    scope: CouponScope
    scope_values: list
    stacking: Stacking
    claim_starts_at: datetime
    claim_ends_at: datetime
    valid_until: datetime | None
    valid_days: int | None
    total_quantity: int
    remaining: int
    per_user_limit: int
    public: bool


class CouponRead(BaseModel):
    id: int
    template_id: int
    merchant_id: int | None
    code: str
    status: CouponStatus
    channel: str
    claimed_at: datetime
    valid_from: datetime
    valid_until: datetime
    used_at: datetime | None
    used_order_id: int | None
    discount_fen: int | None
    template: TemplateRead


class CartLineIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: EntityId | None = None
    service_item_id: EntityId | None = None
    quantity: Annotated[JsonInt, Field(ge=1, le=99)] = 1

    @model_validator(mode="after")
    def _exactly_one_item(self) -> "CartLineIn":
        if (self.sku_id is None) == (self.service_item_id is None):
            raise ValueError("give exactly one of sku_id and service_item_id")
        return self


class QuoteIn(InputModel):
    """A cart, priced by the server from the catalog (one merchant per cart, like orders)."""

    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[CartLineIn], Field(min_length=1, max_length=50)]
    store_id: EntityId | None = None
    coupon_ids: Annotated[list[EntityId], Field(max_length=2)] | None = Field(
        None, description="Use exactly these coupons; omitted: the best combination is picked.")


class AppliedCoupon(BaseModel):
    coupon_id: int
    template_id: int
    name: str
    discount_fen: int
    eligible_fen: int = Field(description="The part of the cart this coupon applies to.")


class Rejected(BaseModel):
    coupon_id: int
    name: str
    reason: str = Field(description="Stable reason code: below_threshold, out_of_scope, not_yet_valid, ...")


class QuoteRead(BaseModel):
    subtotal_fen: int = Field(description="The cart at catalogue prices.")
    tier_percent: int = Field(0, description="Your member tier's discount at this merchant, in percent (0: none).")
    tier_discount_fen: int = Field(0, description="What the tier discount takes off, before any coupon: coupon "
                                                  "thresholds and caps are judged on what is left.")
    discount_fen: int = Field(description="What the coupons take off (after the tier discount): at most all but "
                                          "the 1-fen minimum charge, as at checkout.")
    total_fen: int = Field(description="subtotal - tier discount - coupons: what checkout charges before points.")
    applied: list[AppliedCoupon]
    rejected: list[Rejected]
    explanation: list[str] = Field(description="Why this combination: one sentence per step, in English.")


class CounterRedeemIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=40)]
    store_id: EntityId
    amount_fen: Fen = Field(description="What the customer is paying at the counter before the coupon.")
    record_id: EntityId | None = Field(None, description="The consumption record of this sale at this store, if "
                                                         "recorded: links the redemption to its revenue.")


class CounterRedeemRead(BaseModel):
    coupon_id: int
    discount_fen: int
    pay_fen: int


