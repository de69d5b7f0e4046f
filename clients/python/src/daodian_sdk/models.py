"""What the webhook routes answer, as typed records (unknown fields from newer servers are ignored)."""

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class _Record:
    _times: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]):
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: (_when(v) if k in cls._times else v) for k, v in data.items() if k in known}
        return cls(**values)


@dataclass(frozen=True)
class EventType(_Record):
    name: str
    scope: str
    summary: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Endpoint(_Record):
    _times = ("disabled_at", "failing_since", "created_at", "previous_secret_expires_at")
    id: int
    app_id: int
    url: str
    description: str
    events: list[str]
    status: str
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    consecutive_failures: int
    created_at: datetime
    secret: str | None = None  # only when created or rotated
    previous_secret_expires_at: datetime | None = None


@dataclass(frozen=True)
class Delivery(_Record):
    _times = ("next_attempt_at", "created_at", "delivered_at")
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


@dataclass(frozen=True)
class Attempt(_Record):
    _times = ("attempted_at",)
    id: int
    delivery_id: int
    event_id: str
    event_type: str
    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    latency_ms: int
    error: str | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
