"""Follow, merchant post and feed schemas."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from daodian.kit.ids import EntityId
from daodian.kit.schemas import InputModel, JsonInt


class FollowRead(BaseModel):
    merchant_id: int
    created_at: datetime


class FollowerCount(BaseModel):
    merchant_id: int
    followers: int
    following: bool | None = None  # whether the caller follows (null when signed out)


class PostIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=80)]
    body: Annotated[str, Field(min_length=1, max_length=2000)]
    members_only: bool = False
    min_tier_rank: Annotated[JsonInt, Field(ge=1, le=100)] | None = None
    coupon_template_id: EntityId | None = None
    targeted: bool = Field(False, description="Only for the members a segment campaign sends it to "
                                              "(POST /merchants/{id}/campaigns with post_id); no one before.")


class PostRead(BaseModel):
    id: int
    merchant_id: int
    title: str
    body: str
    members_only: bool
    min_tier_rank: int | None
    coupon_template_id: int | None
    targeted: bool = False
    created_at: datetime


class FeedPage(BaseModel):
    personalised: bool
    items: list[PostRead]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next (older) page.")
