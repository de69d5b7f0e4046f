"""Pre-sale request and response bodies."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from daodian.kit.ids import EntityId
from daodian.kit.money import MAX_FEN
from daodian.kit.schemas import INT32_MAX, INT32_MIN
from daodian.orders.schemas import DeliveryAddress


class CandidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: EntityId
    deposit_fen: int = Field(gt=0, le=MAX_FEN)
    # The service checks the rule (422 invalid_presale below 1); the bounds are the column's.
    threshold: int = Field(ge=INT32_MIN, le=INT32_MAX)


class PresaleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=64)
    closes_at: datetime
    candidates: list[CandidateIn] = Field(min_length=1, max_length=20)


class VoteIn(BaseModel):
    """Where the goods go if the candidate wins (the balance order's fulfilment), as for product orders."""
    model_config = ConfigDict(extra="forbid")
    fulfilment: Literal["pickup", "delivery"]
    store_id: EntityId | None = None
    delivery_address: DeliveryAddress | None = None


class CandidateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sku_id: int
    name: str
    price_fen: int
    deposit_fen: int
    threshold: int
    paid_votes: int
    outcome: str | None


class PresaleRead(BaseModel):
    id: int
    merchant_id: int
    title: str
    closes_at: datetime
    status: str
    closed_at: datetime | None
    candidates: list[CandidateRead]


class VoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    candidate_id: int
    consumer_id: int
    deposit_order_id: int
    balance_order_id: int | None
    refund_id: int | None
