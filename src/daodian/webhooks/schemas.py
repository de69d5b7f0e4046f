"""Webhook request and response bodies."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from daodian.kit.schemas import InputModel

EventName = Annotated[str, Field(min_length=1, max_length=48)]


class EventTypeRead(BaseModel):
    name: str
    scope: str = Field(description="The scope the installation must hold for the app to receive it.")
    summary: str
    schema_: dict[str, Any] = Field(alias="schema", description="JSON Schema (2020-12) of the whole body.")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class EndpointIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=8, max_length=500)]
    events: Annotated[list[EventName], Field(min_length=1, max_length=50)]
    description: Annotated[str, Field(max_length=200)] = ""


class EndpointPatch(InputModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=8, max_length=500)] | None = None
    events: Annotated[list[EventName], Field(min_length=1, max_length=50)] | None = None
    description: Annotated[str, Field(max_length=200)] | None = None
    status: Literal["active", "disabled"] | None = Field(None, description="Enable a disabled endpoint again "
                                                                           "(its pending deliveries resume).")


class EndpointRead(BaseModel):
    id: int
    app_id: int
    url: str
    description: str
    events: list[str]
    status: str
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="`failing_for_days` or `by_developer` while disabled.")
    failing_since: datetime | None
    consecutive_failures: int
    created_at: datetime


class EndpointWithSecret(EndpointRead):
    secret: str = Field(description="Signs every delivery; shown when created and when rotated.")
    previous_secret_expires_at: datetime | None = None


class DeliveryRead(BaseModel):
    id: int
    event_id: str
    event_type: str
    installation_id: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str | None


class AttemptRead(BaseModel):
    id: int
    delivery_id: int
    event_id: str
    event_type: str
    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    latency_ms: int
    error: str | None
