"""Schemas for earning rules, member tiers, memberships and members by tier."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from daodian.kit.schemas import NOT_BLANK_PATTERN, InputModel, JsonInt


class PointsRuleIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    points_per_yuan: Annotated[JsonInt, Field(ge=0, le=100, description="Points per 1 元 paid (0: no earning).")]


class PointsRuleRead(BaseModel):
    merchant_id: int
    points_per_yuan: int
    is_default: bool


class TierIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=32, pattern=NOT_BLANK_PATTERN)]
    rank: Annotated[JsonInt, Field(ge=0, le=100, description="Higher rank, better tier; unique per scope.")]
    min_spend_fen: Annotated[JsonInt, Field(ge=0, le=10_000_000_000)] = 0
    min_points: Annotated[JsonInt | None, Field(ge=0, le=10_000_000_000)] = None
    discount_percent: Annotated[JsonInt, Field(ge=0, le=50)] = 0
    points_multiplier_pct: Annotated[JsonInt, Field(ge=100, le=1000, description="150 = 1.5x points.")] = 100


class TierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    scope: str
    merchant_id: int | None
    name: str
    rank: int
    min_spend_fen: int
    min_points: int | None
    discount_percent: int
    points_multiplier_pct: int


class TierCount(BaseModel):
    tier_id: int | None
    name: str | None
    rank: int | None
    members: int | None = Field(description="null below the privacy threshold")
    fewer_than: int | None


class TierSummary(BaseModel):
    merchant_id: int
    tiers: list[TierCount]


class MembershipRead(BaseModel):
    scope: str
    merchant_id: int | None
    since: datetime
    tier: TierRead | None
    tier_since: datetime | None
    rolling_spend_fen: int
    last_evaluated_at: datetime | None
