from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from daodian.kit.ids import EntityId
from daodian.kit.money import Fen
from daodian.kit.schemas import InputModel, JsonInt
from daodian.payments.models import PaymentStatus, RefundStatus

ProviderName = Literal["sandbox", "offline", "alipay", "wechatpay"]


class PayIn(InputModel):
    """How to pay. The amount is the order's total: never sent by the client."""

    model_config = ConfigDict(extra="forbid")

    provider: ProviderName
    store_id: EntityId | None = Field(None, description="offline: the store whose POS took the money.")
    method: Literal["cash", "card"] | None = Field(None, description="offline: how the consumer paid.")
    reference: Annotated[str, Field(max_length=64, description="offline: the POS slip number.")] = ""

    @model_validator(mode="after")
    def _offline_names_store_and_method(self) -> "PayIn":
        if self.provider == "offline" and (self.store_id is None or self.method is None):
            raise ValueError("offline payments name the store_id and the method (cash or card)")
        return self


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    provider: str
    status: PaymentStatus
    amount_fen: int
    refunded_fen: int
    out_trade_no: str = Field(description="Our reference at the provider.")
    pay_url: str | None = Field(description="Where the consumer pays (a page, or WeChat's QR payload).")
    late: bool = Field(description="Paid after the order had closed; refunded automatically.")
    created_at: datetime
    succeeded_at: datetime | None


class RefundCreate(InputModel):
    """Product orders: `amount_fen` (default: all that is left). Service orders: unused voucher uses —
    `voucher_id` and `uses` (default: all unused uses of the order); the server computes the amount."""

    model_config = ConfigDict(extra="forbid")

    amount_fen: Annotated[Fen | None, Field(ge=1)] = None
    voucher_id: EntityId | None = None
    uses: Annotated[JsonInt | None, Field(ge=1, le=1000)] = None
    reason: Annotated[str, Field(max_length=200)] = ""


class RefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    payment_id: int
    provider: str
    status: RefundStatus
    amount_fen: int
    reason: str
    voided_uses: dict[str, int] = Field(description="Voucher id -> uses this refund voided.")
    failure: str | None
    created_at: datetime
    completed_at: datetime | None


class ProvidersRead(BaseModel):
    available: list[str]


class NotifyAck(BaseModel):
    code: str
    message: str
