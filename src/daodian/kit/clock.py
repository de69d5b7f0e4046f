"""Time: always timezone-aware, always UTC in storage."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
