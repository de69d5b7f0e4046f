"""Loyalty schemas: points balances and transactions."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from daodian.kit.ids import EntityId
from daodian.kit.schemas import InputModel, JsonInt


class PointsBalance(BaseModel):
    consumer_id: int
    balance: int


class PointsTransactionRead(BaseModel):
    id: int
    kind: str
    points: int
    merchant_id: int | None
    reference: str
    reverses_id: int | None
    expires_at: datetime | None
    created_at: datetime


class PointsSpendIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    points: Annotated[JsonInt, Field(ge=1, le=100_000_000)]
    reference: Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_.:\-]+$",
                                    description="Your checkout's id: the same reference spends once.")]
    merchant_id: EntityId | None = None


class PointsAwardIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    consumer_id: EntityId
    points: Annotated[JsonInt, Field(ge=1, le=1_000_000)]
    reference: Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_.:\-]+$")]
