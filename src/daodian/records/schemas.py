from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictBool, model_validator

from daodian.accounts.schemas import Phone
from daodian.kit.clock import utcnow
from daodian.kit.ids import EntityId
from daodian.kit.money import Fen
from daodian.kit.schemas import InputModel, JsonInt
from daodian.records.models import IdentifiedBy, RecordSource, ReviewStatus


def _datetime_as_text(value: Any) -> Any:
    # Lax mode would read a number as a Unix timestamp; in JSON a moment is an ISO-8601 string with offset.
    if isinstance(value, datetime | str):
        return value
    raise ValueError("must be an ISO-8601 date-time with a UTC offset")


def _aware_utc_within_reason(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a UTC offset, e.g. 2024-05-01T12:30:00+08:00")
    # Checked before converting, so year 9999 with a negative offset is a 422, not an overflow.
    if not 2000 <= value.year <= 2100:
        raise ValueError("must lie between the years 2000 and 2100")
    return value.astimezone(UTC)


Moment = Annotated[datetime, BeforeValidator(_datetime_as_text), AfterValidator(_aware_utc_within_reason),
                   Field(description="ISO-8601 with a UTC offset, e.g. 2024-05-01T12:30:00+08:00.")]


def normalize_member_code(value: str) -> str:
    return value.replace(" ", "").replace("-", "").upper()


MemberCode = Annotated[str, Field(pattern=r"^[0-9A-Za-z -]{4,24}$", examples=["7K3M9Q2XVA"]),
                       AfterValidator(normalize_member_code)]
VoucherCode = Annotated[str, Field(pattern=r"^[0-9A-Za-z -]{4,40}$")]
ReceiptId = Annotated[str, Field(pattern=r"^[!-~]{1,64}$", description="The POS receipt number; printable ASCII.",
                                 examples=["POS1-20240501-0042"])]


class MemberIn(InputModel):
    """Exactly one way the consumer identified themselves at the counter."""

    phone: Phone | None = None
    member_code: MemberCode | None = Field(None, description="The code shown at GET /me/member-code.")
    voucher_code: VoucherCode | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "MemberIn":
        given = [k for k in ("phone", "member_code", "voucher_code") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of phone, member_code, voucher_code")
        return self

    @property
    def kind(self) -> IdentifiedBy:
        if self.phone is not None:
            return IdentifiedBy.PHONE
        return IdentifiedBy.MEMBER_CODE if self.member_code is not None else IdentifiedBy.VOUCHER

    @property
    def value(self) -> str:
        return self.phone or self.member_code or self.voucher_code or ""


class ConsumptionLineIn(InputModel):
    sku_id: EntityId | None = Field(None, description="A product SKU of this merchant…")
    service_item_id: EntityId | None = Field(None, description="…or one of its service items (exactly one).")
    quantity: Annotated[JsonInt, Field(ge=1, le=100_000)] = 1
    amount_fen: Fen = Field(description="What was actually charged for this line, after any discount.")
    description: Annotated[str | None, Field(max_length=120, description="Defaults to the catalog name.")] = None

    @model_validator(mode="after")
    def _one_subject(self) -> "ConsumptionLineIn":
        if (self.sku_id is None) == (self.service_item_id is None):
            raise ValueError("give exactly one of sku_id and service_item_id")
        return self


# POS clocks drift; a sale a few minutes "in the future" is a clock, not a forgery.
CLOCK_SKEW = timedelta(minutes=5)


def _not_in_future(value: datetime) -> datetime:
    if value > utcnow() + CLOCK_SKEW:
        raise ValueError("lies in the future; check the POS clock")
    return value


class ConsumptionRecordCreate(InputModel):
    receipt_id: ReceiptId
    occurred_at: Annotated[Moment, AfterValidator(_not_in_future)]
    lines: Annotated[list[ConsumptionLineIn], Field(min_length=1, max_length=200)]
    member: MemberIn | None = None
    member_consented: StrictBool = Field(
        False, description="The consumer agreed to tie this sale to their account; without it the record is anonymous.")


class ConsumptionLineRead(BaseModel):
    sku_id: int | None
    service_item_id: int | None
    description: str
    quantity: int
    amount_fen: int


class ConsumptionRecordRead(BaseModel):
    id: int
    merchant_id: int
    store_id: int
    receipt_id: str
    occurred_at: datetime
    total_fen: int
    currency: str
    source: RecordSource
    identified_by: IdentifiedBy
    lines: list[ConsumptionLineRead]
    created_at: datetime


class MerchantRecordRead(ConsumptionRecordRead):
    consumer_id: int | None = Field(description="Set only when the consumer agreed to be identified.")
    recorded_by: int


class MyRecordRead(ConsumptionRecordRead):
    review_id: int | None = Field(description="Your review of this visit, if you wrote one.")


class MemberCodeRead(BaseModel):
    member_code: str = Field(description="Show it at the counter (as text or a QR code) to collect this visit.")


Rating = Annotated[JsonInt, Field(ge=1, le=5)]


class ReviewCreate(InputModel):
    record_id: EntityId | None = Field(None, description="A consumption record identified to you…")
    verification_id: EntityId | None = Field(None, description="…or the verification of one of your vouchers.")
    rating_experience: Rating = Field(description="The overall experience; this one feeds the store rating.")
    rating_service: Rating
    rating_product: Rating | None = Field(None, description="Required when the visit included products.")
    text: Annotated[str, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _one_basis(self) -> "ReviewCreate":
        if (self.record_id is None) == (self.verification_id is None):
            raise ValueError("give exactly one of record_id and verification_id")
        return self


class ReplyIn(InputModel):
    text: Annotated[str, Field(min_length=1, max_length=1000, pattern=r"\S")]


class ReviewRead(BaseModel):
    id: int
    store_id: int
    merchant_id: int
    basis: Literal["record", "verification"]
    rating_experience: int
    rating_service: int
    rating_product: int | None
    text: str
    author_name: str
    status: ReviewStatus
    merchant_reply: str | None
    replied_at: datetime | None
    created_at: datetime
