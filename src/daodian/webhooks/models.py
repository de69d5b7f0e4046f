"""Webhook endpoints of an app, one delivery per (endpoint, event), and every attempt at sending one.

An endpoint belongs to an app and receives the subscribed events of every merchant that installed the app;
a delivery names the installation whose merchant's fact it carries. The delivery keeps the exact body it
sends (rendered once), so a retry or a manual redelivery repeats the same bytes under the same event id.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime

_PENDING = text("status = 'pending'")


class EndpointStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # after failing for days (disabled_reason says why), or by its developer


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or being sent: see lease_until)
    SUCCEEDED = "succeeded"  # the endpoint answered 2xx
    FAILED = "failed"  # gave up after the last attempt of the backoff schedule


class WebhookEndpoint(Base):
    """A URL an app registered, the events it wants, and the secret its deliveries are signed with. After a
    rotation the previous secret signs too (a second v1 signature) until `previous_secret_expires_at`."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[IdPk]
    app_id: Mapped[int] = mapped_column(BigId, ForeignKey("apps.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[list[str]] = mapped_column(JSON)  # event type names (webhooks.catalogue)
    secret: Mapped[str] = mapped_column(String(64))  # kept in clear: every delivery is signed with it
    previous_secret: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=EndpointStatus.ACTIVE)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first failure after the last success
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint. `object_key` ("order:42") orders deliveries: a later one for the same
    object is not sent while an earlier one is still pending. `lease_until` marks one being sent by a runner."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_due", "next_attempt_at", sqlite_where=_PENDING, postgresql_where=_PENDING),
        Index("ix_webhook_deliveries_object", "endpoint_id", "object_key", "id",
              sqlite_where=_PENDING, postgresql_where=_PENDING),
        Index("ix_webhook_deliveries_log", "endpoint_id", "id"),
    )

    id: Mapped[IdPk]
    endpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_endpoints.id"))
    installation_id: Mapped[int] = mapped_column(BigId, ForeignKey("app_installations.id"), index=True)
    fact_id: Mapped[int] = mapped_column(BigInteger)  # the fact's id (facts refuse deletes; no FK needed)
    event_id: Mapped[str] = mapped_column(String(40))  # the receiver's de-duplication key
    event_type: Mapped[str] = mapped_column(String(48))
    object_key: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the event envelope, exactly as sent
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))


class WebhookAttempt(Base):
    """One HTTP request of a delivery: the endpoint's log in the console (status, latency, response code)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),)

    id: Mapped[IdPk]
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_deliveries.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_endpoints.id"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: no answer (refused, timed out)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
