"""Group buy request and response bodies."""

from datetime import datetime

from pydantic import BaseModel, Field

from daodian.kit.ids import MAX_ID


class Tier(BaseModel):
    min_participants: int = Field(ge=1, le=100_000)
    price_fen: int = Field(ge=1, le=100_000_000)


class GroupBuyCreate(BaseModel):
    service_item_id: int = Field(ge=1, le=MAX_ID)
    title: str = Field(min_length=1, max_length=64)
    tiers: list[Tier] = Field(min_length=1, max_length=10)
    min_participants: int | None = Field(default=None, ge=1, le=100_000)  # default: the first tier's
    starts_at: datetime | None = None  # default: now
    ends_at: datetime


class GroupBuyRead(BaseModel):
    id: int
    merchant_id: int
    service_item_id: int
    title: str
    tiers: list[Tier]
    min_participants: int
    starts_at: datetime
    ends_at: datetime
    status: str
    participants: int  # paid joins (fixed at settlement)
    joined: int  # joins, paid or not
    current_price_fen: int | None  # the tier reached now; None below the minimum
    next_tier: Tier | None
    needed_for_next: int | None
    final_price_fen: int | None


class JoinRead(BaseModel):
    id: int
    group_buy_id: int
    consumer_id: int
    order_id: int
    price_fen: int
    created_at: datetime


class SettleRead(BaseModel):
    group_buy_id: int
    status: str
    participants: int | None
    final_price_fen: int | None
    refunds_opened: int
