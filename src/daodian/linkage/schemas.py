from datetime import datetime
from typing import Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, model_validator

from daodian.geo.datum import Datum
from daodian.kit.schemas import InputModel
from daodian.linkage.models import LinkSource, LinkStatus
from daodian.merchants.schemas import StoreRead
from daodian.taxonomy.schemas import CategoryCode, CategoryRead

Strength = Annotated[StrictFloat, Field(ge=0, le=1, allow_inf_nan=False, description="0..1; orders the services shown.")]


class Near(NamedTuple):
    """Where the consumer is, as their device or map reported it."""

    lat: float
    lng: float
    datum: Datum


class LinkCreate(InputModel):
    product_category: CategoryCode = Field(description="Product category code; a level-1 code covers its children.")
    service_category: CategoryCode = Field(description="Leaf service category code, e.g. auto_service.oil_change.")
    strength: Strength = 0.8
    status: LinkStatus = LinkStatus.LIVE


def _at_least_one_field(schema: dict) -> None:
    schema["minProperties"] = 1
    for field in schema.get("properties", {}).values():
        field.pop("default", None)  # left out means unchanged; null is not a value


class LinkUpdate(InputModel):
    # The published schema says what the rule below enforces: at least one field, and no nulls (an update
    # that changes nothing would still claim the link for the operator).
    model_config = ConfigDict(json_schema_extra=_at_least_one_field)

    status: LinkStatus = None  # left out: unchanged
    strength: Strength = None

    @model_validator(mode="after")
    def _something(self) -> "LinkUpdate":
        if self.status is None and self.strength is None:
            raise ValueError("give a status or a strength")
        return self


class MiningFigures(BaseModel):
    support: float | None
    confidence: float | None
    lift: float | None
    pair_count: int | None
    antecedent_count: int | None
    consequent_count: int | None
    window_days: int | None
    mined_at: datetime | None


class LinkRead(BaseModel):
    id: int
    product_category: CategoryRead
    service_category: CategoryRead
    source: LinkSource
    status: LinkStatus
    strength: float
    mining: MiningFigures | None = Field(description="Figures of the last mining run; null for curated links.")
    reviewed_by: int | None = Field(description="Operator who created or last decided on the link.")
    reviewed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class NearbyStore(BaseModel):
    """One store offering a linked service, as the nearby ranking placed it."""

    store: StoreRead
    distance_m: int = Field(description="Great-circle distance from the consumer, in metres.")
    open_now: bool
    score: float = Field(description="0..1, the sum of the parts' points, as GET /stores/nearby ranks.")
    score_parts: dict[str, dict[str, float]] = Field(
        description="Per part (distance, rating, popularity, open_now): value, normalized, weight, points.")
    promoted: bool = Field(description="Lifted into a promotion slot because of a paid promotion; labelled.")


class LinkedService(BaseModel):
    service_category: CategoryRead
    strength: float
    sources: list[LinkSource]
    via: CategoryRead = Field(description="The product category carrying the link (the product's or its parent).")
    stores: list[NearbyStore] | None = Field(description="Nearest well-ranked stores; null without lat/lng.")


class ProductServices(BaseModel):
    product_id: int
    product_category: CategoryRead
    services: list[LinkedService]
