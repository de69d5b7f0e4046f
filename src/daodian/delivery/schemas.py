from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StrictBool, StrictFloat

from daodian.geo.datum import Datum
from daodian.kit.ids import EntityId
from daodian.kit.schemas import InputModel, JsonInt
from daodian.merchants.schemas import Location


class CourierCreate(InputModel):
    user_id: EntityId
    speed_m_per_min: Annotated[JsonInt, Field(ge=30, le=2000)] = 250
    capacity: Annotated[JsonInt, Field(ge=1, le=20)] = 4
    provider: StrictBool = Field(False, description="A service provider (上门服务): sent on visits to consumers' "
                                 "addresses for at-home service items, never with deliveries; couriers the reverse.")


class ShiftIn(InputModel):
    online: StrictBool
    ends_at: AwareDatetime | None = Field(None, description="When the shift ends (no new route after it).")


class PositionIn(InputModel):
    lat: Annotated[StrictFloat, Field(ge=-90, le=90, allow_inf_nan=False)]
    lng: Annotated[StrictFloat, Field(ge=-180, le=180, allow_inf_nan=False)]
    datum: Datum = Field(description="The browser's Geolocation API gives wgs84.")
    accuracy_m: Annotated[StrictFloat, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = None


class PositionAck(BaseModel):
    kept: bool = Field(description="False when the report came sooner than the server keeps them.")
    next_after: datetime


class HandoverIn(InputModel):
    code: Annotated[str, Field(min_length=4, max_length=8, pattern=r"^[0-9]+$")]


class VisitCompleteIn(InputModel):
    code: Annotated[str, Field(min_length=1, max_length=40, description="The voucher code the consumer shows (or "
                                                                          "its QR's content).")]


class ManualAssignIn(InputModel):
    courier_id: EntityId
    reason: Annotated[str, Field(min_length=1, max_length=200)] = "manual"


class CourierRead(BaseModel):
    id: int
    user_id: int
    display_name: str
    merchant_id: int | None
    provider: bool = Field(False, description="Goes on visits (上门服务) rather than carrying deliveries.")
    online: bool
    on_duty: bool
    capacity: int
    speed_m_per_min: int
    shift_ends_at: datetime | None
    position: Location | None
    position_at: datetime | None
    carrying: int = Field(description="Deliveries assigned and not yet delivered.")


class TimelineEntry(BaseModel):
    status: Literal["placed", "ready", "assigned", "at_store", "picked_up", "delivered", "cancelled"]
    at: datetime
    planned: bool = Field(description="True for an estimate (ready, ETA), False for what happened.")


class DeliveryRead(BaseModel):
    id: int
    order_id: int
    merchant_id: int
    store_id: int
    store_name: str
    store_location: Location
    dropoff: Location
    kind: Literal["delivery", "visit"] = Field("delivery", description="`visit`: a provider goes to the consumer's "
                                               "address for an at-home service; done with the voucher's code.")
    status: str
    courier: CourierRead | None
    ready_at: datetime
    eta: datetime | None = Field(description="Planned hand-over at the door, from the dispatcher's route.")
    timeline: list[TimelineEntry]


class ConsumerDeliveryRead(DeliveryRead):
    handover_code: str | None = Field(description="Shown only to the consumer: they give it to the courier at the "
                                      "door. None for a visit: the provider verifies the voucher's code instead.")


class BoardRead(BaseModel):
    waiting: list[DeliveryRead]
    active: list[DeliveryRead]
    couriers: list[CourierRead]


class CycleRead(BaseModel):
    assigned: int
    open_deliveries: int
    available_couriers: int
