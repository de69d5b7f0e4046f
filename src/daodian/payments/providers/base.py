"""The one interface every payment provider implements.

Calls that leave the process (`start`, `refund` of online providers) are made outside any database
transaction: nothing holds a lock while a provider's server thinks. Providers see plain snapshots
(`PaymentInfo`, `RefundInfo`), never ORM rows.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from daodian.kit.errors import DomainError


class InvalidSignature(DomainError):
    status, code, message = 400, "invalid_signature", "The notification's signature does not verify."


class ProviderError(DomainError):
    status, code, message = 502, "provider_error", "The payment provider did not accept the request; retry later."


@dataclass(frozen=True)
class PaymentInfo:
    payment_id: int
    order_id: int
    out_trade_no: str
    amount_fen: int
    subject: str
    notify_url: str  # where this provider must send its notifications
    pay_page_base: str  # our own base URL (the sandbox's pay page lives there)


@dataclass(frozen=True)
class RefundInfo:
    refund_id: int
    out_refund_no: str
    out_trade_no: str
    provider_trade_no: str | None
    amount_fen: int
    payment_amount_fen: int
    reason: str
    notify_url: str


@dataclass(frozen=True)
class Started:
    pay_url: str | None  # where the consumer pays (a page, or a QR payload for WeChat native pay)


@dataclass(frozen=True)
class RefundResult:
    status: Literal["succeeded", "pending", "failed"]
    provider_refund_no: str | None = None
    message: str = ""


@dataclass(frozen=True)
class Notification:
    """A verified message from a provider."""

    notify_id: str
    kind: Literal["payment", "refund"]
    reference: str  # out_trade_no (payment) or out_refund_no (refund)
    succeeded: bool | None  # None: informational (e.g. still waiting for the buyer), changes nothing
    amount_fen: int | None
    provider_reference: str | None = None  # their trade or refund number
    occurred_at: datetime | None = None
    payload: dict = field(default_factory=dict)


class PaymentProvider(ABC):
    name: str
    online: bool = True  # the consumer pays through the provider; offline = staff record it at the POS
    remote_start: bool = False  # `start` calls the provider's API (so it runs outside any transaction)
    remote_refund: bool = False  # so does `refund`

    @abstractmethod
    def start(self, payment: PaymentInfo) -> Started: ...

    @abstractmethod
    def refund(self, refund: RefundInfo) -> RefundResult: ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        raise InvalidSignature("This provider sends no notifications.")

    def acknowledgement(self) -> tuple[str, str]:
        """What the provider expects back once a notification is taken: (media type, body)."""
        return "application/json", '{"code":"SUCCESS","message":"OK"}'


def yuan(fen: int) -> str:
    """Fen as the providers' decimal yuan string: 12990 -> '129.90'."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen_from_yuan(text: str | None) -> int | None:
    try:
        value = Decimal(str(text)) * 100
    except (InvalidOperation, TypeError, ValueError):
        return None
    return int(value) if value == value.to_integral_value() and value >= 0 else None
