from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from daodian.campaigns.audience_guard import INACTIVE_LADDER
from daodian.kit.ids import EntityId
from daodian.kit.schemas import InputModel, JsonInt

Segment = Literal["all", "new", "returning", "inactive", "high_value"]


def _on_the_ladder(days: int) -> int:
    if days not in INACTIVE_LADDER:  # any day count would let two sizes differ by one day's members
        raise ValueError(f"inactive_days must be one of {', '.join(map(str, INACTIVE_LADDER))}")
    return days


InactiveDays = Annotated[int, Field(ge=1, le=3650, description=f"One of {list(INACTIVE_LADDER)}."),
                         AfterValidator(_on_the_ladder)]


class AudienceIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    segment: Segment
    inactive_days: Annotated[JsonInt, Field(ge=1, le=3650), AfterValidator(_on_the_ladder)] | None = None

    @model_validator(mode="after")
    def _days_for_inactive(self) -> "AudienceIn":
        if (self.segment == "inactive") != (self.inactive_days is not None):
            raise ValueError("inactive_days is required for the inactive segment, and only there")
        return self


class AudienceRead(BaseModel):
    segment: Segment
    size: int | None = Field(description="Consumers in the segment; null when below the privacy threshold, or "
                                         "when a containing segment is larger by fewer than that (differencing).")
    display: str = Field(description='The size as shown, e.g. "fewer than 10".')
    targetable: bool
    threshold: int
    withheld: Literal["too_small", "differencing"] | None = None


class CampaignIn(AudienceIn):
    template_id: EntityId | None = Field(None, description="Send one coupon of this template to each member ...")
    post_id: EntityId | None = Field(None, description="... or this post of yours to their feeds: exactly one.")

    @model_validator(mode="after")
    def _coupon_or_post(self) -> "CampaignIn":
        if (self.template_id is None) == (self.post_id is None):
            raise ValueError("give exactly one of template_id (a coupon) or post_id (a post)")
        return self


class CampaignRead(BaseModel):
    id: int
    merchant_id: int
    template_id: int | None
    post_id: int | None
    segment: str
    inactive_days: int | None
    audience: int
    issued: int
    created_at: datetime
