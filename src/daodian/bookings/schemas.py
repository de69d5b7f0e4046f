from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, model_validator

from daodian.bookings.models import BookingPayment, BookingStatus, SlotStatus
from daodian.kit.clock import utcnow
from daodian.kit.ids import EntityId
from daodian.kit.schemas import InputModel, IsoDate, JsonInt

MAX_SLOT_LENGTH = timedelta(hours=24)
MAX_PATTERN_DAYS = 92
MAX_PATTERN_SLOTS = 1000


def _datetime_as_text(value: Any) -> Any:
    # Lax mode would read a number as a Unix timestamp; in JSON a moment is an ISO-8601 string with offset.
    if isinstance(value, datetime | str):
        return value
    raise ValueError("must be an ISO-8601 date-time with a UTC offset")


def aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a UTC offset, e.g. 2024-05-01T12:30:00+08:00")
    # Checked before converting, so year 9999 with a negative offset is a 422, not an overflow.
    if not 2000 <= value.year <= 2100:
        raise ValueError("must lie between the years 2000 and 2100")
    return value.astimezone(UTC)


def _date_within_reason(value: date) -> date:
    if not 2000 <= value.year <= 2100:
        raise ValueError("must lie between the years 2000 and 2100")
    return value


Moment = Annotated[datetime, BeforeValidator(_datetime_as_text), AfterValidator(aware_utc),
                   Field(description="ISO-8601 with a UTC offset, e.g. 2024-05-01T12:30:00+08:00.")]
Day = Annotated[IsoDate, AfterValidator(_date_within_reason)]
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["10:00"])]
Capacity = Annotated[JsonInt, Field(ge=1, le=1000, description="How many bookings the slot takes.")]


class SlotCreate(InputModel):
    service_item_id: EntityId
    starts_at: Moment
    ends_at: Moment
    capacity: Capacity

    @model_validator(mode="after")
    def _sensible_times(self) -> "SlotCreate":
        if not self.starts_at < self.ends_at <= self.starts_at + MAX_SLOT_LENGTH:
            raise ValueError("ends_at must be after starts_at, at most 24 hours later")
        if self.starts_at <= utcnow():
            raise ValueError("starts_at lies in the past")
        return self


class TimeRange(InputModel):
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _ordered(self) -> "TimeRange":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start}) on the same day")
        return self

    def bounds(self) -> tuple[time, time]:
        return time.fromisoformat(self.start), time.fromisoformat(self.end)


class WeeklySlotsCreate(InputModel):
    """The same times on chosen weekdays, in the store's time zone, from one date to another (inclusive)."""

    service_item_id: EntityId
    from_date: Day
    to_date: Day
    weekdays: Annotated[list[Annotated[JsonInt, Field(ge=1, le=7)]], Field(
        min_length=1, max_length=7, description="ISO weekdays: 1 = Monday … 7 = Sunday.")]
    times: Annotated[list[TimeRange], Field(min_length=1, max_length=48)]
    capacity: Capacity

    @model_validator(mode="after")
    def _short_range(self) -> "WeeklySlotsCreate":
        if not self.from_date <= self.to_date <= self.from_date + timedelta(days=MAX_PATTERN_DAYS):
            raise ValueError(f"to_date must be on or after from_date, at most {MAX_PATTERN_DAYS} days later")
        if len({t.start for t in self.times}) != len(self.times):
            raise ValueError("two time ranges start at the same time")
        if self.slot_count() > MAX_PATTERN_SLOTS:
            raise ValueError(f"this pattern makes {self.slot_count()} slots, more than {MAX_PATTERN_SLOTS}")
        return self

    def days(self) -> list[date]:
        span = (self.to_date - self.from_date).days + 1
        days = (self.from_date + timedelta(days=n) for n in range(span))
        return [d for d in days if d.isoweekday() in set(self.weekdays)]

    def slot_count(self) -> int:
        return len(self.days()) * len(self.times)


class SlotUpdate(InputModel):
    capacity: Capacity


class SlotRead(BaseModel):
    id: int
    store_id: int
    service_item_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    remaining: int
    status: SlotStatus


class WeeklySlotsResult(BaseModel):
    created: list[SlotRead]
    skipped: int = Field(description="Slots left out because they already existed or would start in the past.")


class BookingCreate(InputModel):
    payment: BookingPayment = Field(description="`voucher`: one of yours for this item; `pay_online`: an order for "
                                                "the item is placed with the booking (its `order_id`), to pay with "
                                                "POST /orders/{id}/pay before it expires, or the place goes back; "
                                                "`pay_at_store`: settled at the counter.")
    voucher_code: Annotated[str | None, Field(pattern=r"^[0-9A-Za-z -]{4,40}$")] = Field(
        None, description="Required with payment=voucher: one of your vouchers for this service item.")

    @model_validator(mode="after")
    def _code_with_voucher(self) -> "BookingCreate":
        if (self.payment == BookingPayment.VOUCHER) != (self.voucher_code is not None):
            raise ValueError("voucher_code is required with payment=voucher and only then")
        return self


class AttendanceIn(InputModel):
    status: Literal["attended", "no_show"]


class BookingRead(BaseModel):
    id: int
    slot_id: int
    store_id: int
    service_item_id: int
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    payment: BookingPayment
    voucher_id: int | None
    order_id: int | None
    cancel_reason: str | None
    cancelled_at: datetime | None
    marked_at: datetime | None
    created_at: datetime


class StaffBookingRead(BookingRead):
    consumer_id: int
    consumer_name: str
