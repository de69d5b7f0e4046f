import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from daodian.accounts.consent import ConsentScope
from daodian.accounts.models import StaffRole
from daodian.kit.schemas import NOT_BLANK_PATTERN, InputModel

# A mainland mobile number as people type it: an optional +86 / 0086 prefix, single spaces or hyphens
# between digits ("+86 138-0013-8000"). Published in the schema, so clients know what is accepted.
PHONE_PATTERN = r"^(\+86|0086)?[ -]?1[3-9]([ -]?[0-9]){9}$"
_PHONE = re.compile(PHONE_PATTERN)


def normalize_phone(value: str) -> str:
    """'+86 138-0013-8000' -> '13800138000'."""
    if not _PHONE.fullmatch(value):
        raise ValueError("must be a mainland China mobile number, 11 digits starting with 1")
    digits = re.sub(r"[ -]", "", value)
    return digits.removeprefix("+86").removeprefix("0086")


Phone = Annotated[str, Field(max_length=24, pattern=PHONE_PATTERN, examples=["13800138000"]),
                  AfterValidator(normalize_phone)]
Password = Annotated[str, Field(min_length=8, max_length=128)]
DisplayName = Annotated[str, Field(min_length=1, max_length=64, pattern=NOT_BLANK_PATTERN)]


class RegisterIn(InputModel):
    phone: Phone
    password: Password
    display_name: DisplayName


class LoginIn(InputModel):
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


class StaffIn(InputModel):
    phone: Phone
    role: StaffRole


class StaffRead(BaseModel):
    user_id: int
    display_name: str
    phone: str
    role: StaffRole


class PreferenceIO(InputModel):
    personalised: StrictBool = Field(description="False: no personalised recommendations or targeted marketing.")


class ConsentRead(BaseModel):
    id: int
    merchant_id: int
    scope: ConsentScope
    granted_at: datetime
    withdrawn_at: datetime | None
    source: str
