import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from daodian.accounts.models import StaffRole

_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalize_phone(value: str) -> str:
    """Mainland mobile numbers, as people type them: '+86 138-0000-0000' -> '13800000000'."""
    digits = re.sub(r"[\s\-()]", "", value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if not _MOBILE.fullmatch(digits):
        raise ValueError("must be a mainland China mobile number, 11 digits starting with 1")
    return digits


Phone = Annotated[str, Field(max_length=24, examples=["13800138000"]), AfterValidator(normalize_phone)]
Password = Annotated[str, Field(min_length=8, max_length=128)]
DisplayName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S")]


class RegisterIn(BaseModel):
    phone: Phone
    password: Password
    display_name: DisplayName


class LoginIn(BaseModel):
    phone: Phone
    password: Annotated[str, Field(min_length=1, max_length=128)]


class MembershipRead(BaseModel):
    merchant_id: int
    role: StaffRole


class MeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str
    display_name: str
    is_operator: bool
    memberships: list[MembershipRead]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: MeRead


class StaffIn(BaseModel):
    phone: Phone
    role: StaffRole


class StaffRead(BaseModel):
    user_id: int
    display_name: str
    phone: str
    role: StaffRole
