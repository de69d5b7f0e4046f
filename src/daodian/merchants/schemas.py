from typing import Annotated
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictFloat,
    field_validator,
    model_validator,
)

from daodian.geo.datum import Datum
from daodian.kit.schemas import NOT_BLANK_PATTERN, InputModel, IsoDate, JsonInt
from daodian.merchants.hours import MINUTES_PER_DAY, find_overlap, parse_hhmm
from daodian.merchants.item_schemas import ServiceItemRead
from daodian.merchants.models import MerchantStatus, StoreStatus
from daodian.taxonomy.schemas import CategoryCode, CategoryRead

Name = Annotated[str, Field(min_length=1, max_length=120, pattern=NOT_BLANK_PATTERN)]
OptionalName = Annotated[str | None, Field(max_length=120)]
ContactPhone = Annotated[str | None, Field(max_length=32, pattern=r"^[0-9+\-() ]*$")]
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", examples=["09:00"])]

_TIMEZONES = frozenset(available_timezones())


def _known_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError("unknown IANA time zone, e.g. Asia/Shanghai")
    return value


Timezone = Annotated[str, Field(max_length=64, examples=["Asia/Shanghai"]), AfterValidator(_known_timezone)]


class MerchantCreate(InputModel):
    name: Name
    name_en: OptionalName = None
    description: Annotated[str, Field(max_length=4000)] = ""
    phone: ContactPhone = None


class MerchantUpdate(InputModel):
    name: Name | None = None
    name_en: OptionalName = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    phone: ContactPhone = None
    status: MerchantStatus | None = Field(None, description="Operators only.")


class MerchantRead(BaseModel):
    id: int
    name: str
    name_en: str | None
    description: str
    phone: str | None
    status: MerchantStatus


class Location(InputModel):
    lat: Annotated[StrictFloat, Field(ge=-90, le=90, allow_inf_nan=False)]
    lng: Annotated[StrictFloat, Field(ge=-180, le=180, allow_inf_nan=False)]
    datum: Datum = Field(description="wgs84 (GPS), gcj02 (AMap/Tencent) or bd09 (Baidu).")


class HoursInterval(InputModel):
    """One opening interval on a weekday. `closes` is after `opens` (opens equal to closes is no interval);
    for hours past midnight set `next_day` with `closes` at or before `opens` (18:00 → 02:00; 00:00 → 00:00
    with next_day is open 24 hours). Anything else is 422 `validation_error` (a `value_error` detail)."""

    weekday: Annotated[JsonInt, Field(ge=1, le=7, description="ISO weekday: 1 = Monday … 7 = Sunday.")]
    opens: Clock
    closes: Clock
    next_day: StrictBool = Field(False, description="Closes after midnight, e.g. 18:00 → 02:00 the next day.")

    @model_validator(mode="after")
    def _not_inverted(self) -> "HoursInterval":
        opens, closes = parse_hhmm(self.opens), parse_hhmm(self.closes)
        if opens == MINUTES_PER_DAY:
            raise ValueError("opening time must be before 24:00")
        if self.next_day:
            if closes > opens or closes == MINUTES_PER_DAY:
                raise ValueError("with next_day the closing time must be at or before the opening time")
        elif closes <= opens:
            raise ValueError(
                f"closes ({self.closes}) is not after opens ({self.opens}); set next_day for past-midnight hours"
            )
        return self

    def as_interval(self) -> tuple[int, int, int]:
        opens, closes = parse_hhmm(self.opens), parse_hhmm(self.closes)
        return self.weekday, opens, closes + (MINUTES_PER_DAY if self.next_day else 0)


class OpeningHours(InputModel):
    intervals: Annotated[list[HoursInterval], Field(max_length=28, description="No interval on a weekday = closed.")]
    closed_dates: Annotated[list[IsoDate], Field(max_length=366, description="Extra closed days, e.g. holidays.")] = []

    @field_validator("intervals")
    @classmethod
    def _no_overlaps(cls, intervals: list[HoursInterval]) -> list[HoursInterval]:
        clash = find_overlap([i.as_interval() for i in intervals])
        if clash:
            raise ValueError(f"intervals overlap on weekdays {clash[0][0]} and {clash[1][0]}")
        return intervals


class StoreCreate(InputModel):
    name: Name
    name_en: OptionalName = None
    address: Annotated[str, Field(min_length=1, max_length=255, pattern=NOT_BLANK_PATTERN)]
    phone: ContactPhone = None
    location: Location
    timezone: Timezone = "Asia/Shanghai"
    primary_category: CategoryCode
    categories: Annotated[list[CategoryCode], Field(max_length=20)] = []
    hours: OpeningHours | None = None


class StoreUpdate(InputModel):
    name: Name | None = None
    name_en: OptionalName = None
    address: Annotated[str | None, Field(min_length=1, max_length=255, pattern=NOT_BLANK_PATTERN)] = None
    phone: ContactPhone = None
    location: Location | None = None
    timezone: Timezone | None = None
    status: StoreStatus | None = None
    primary_category: CategoryCode | None = None
    categories: Annotated[list[CategoryCode] | None, Field(max_length=20)] = None


class LocationRead(BaseModel):
    lat: float
    lng: float
    datum: Datum


class StoreRead(BaseModel):
    id: int
    merchant_id: int
    name: str
    name_en: str | None
    address: str
    phone: str | None
    location: LocationRead = Field(description="Normalised to WGS-84.")
    location_gcj02: LocationRead = Field(description="For AMap/Tencent maps.")
    input_location: LocationRead = Field(description="As the merchant entered it.")
    timezone: str
    status: StoreStatus
    primary_category: CategoryRead
    categories: list[CategoryRead]
    hours: OpeningHours
    open_now: bool
    rating_avg: float
    rating_count: int


class StoreDetail(StoreRead):
    merchant: MerchantRead
    service_items: list[ServiceItemRead]
