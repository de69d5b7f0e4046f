from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from daodian.kit.ids import EntityId
from daodian.kit.schemas import InputModel


class VoucherGroupBuy(BaseModel):
    group_buy_id: int
    outcome: Literal["pending", "succeeded", "failed"] = Field(
        description="`pending`: the deal is open or being settled, and the voucher cannot be used yet; "
                    "`succeeded`: it can be used; `failed`: it is void and refunded.")
    ends_at: datetime = Field(description="When the deal stops gathering participants (UTC).")


class VoucherRead(BaseModel):
    id: int
    code: str = Field(description="The code to show at the counter (also in the QR code).")
    display_code: str = Field(description="The code grouped for reading aloud.")
    order_id: int
    merchant_id: int
    service_item_id: int
    name: str
    status: Literal["active", "used_up", "expired", "refunded"]
    uses_total: int
    uses_left: int
    refunded_uses: int
    expires_at: datetime
    qr_svg_url: str
    group_buy: VoucherGroupBuy | None = Field(
        None, description="For a group-buy join: the deal's outcome; the voucher works only once it succeeded.")


class VerifyIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=64, description="Typed or scanned; spaces and hyphens ok.")]
    store_id: EntityId


class VerificationRead(BaseModel):
    id: int
    voucher_id: int
    order_id: int
    service_item_id: int
    name: str
    store_id: int
    staff_user_id: int
    verified_at: datetime
    reversed_at: datetime | None
    reversible_until: datetime
    uses_left: int
    uses_total: int
