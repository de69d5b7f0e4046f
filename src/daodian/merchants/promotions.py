"""Paid store promotions: operator-managed windows during which a store may take a labelled
promotion slot in nearby results (see geo.ranking for the cap). Cancelled promotions stay on record.

Creating or cancelling one stamps the store's `updated_at`, which is how every app process's nearby
index learns about it (nearby.index polls that column).
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal, require_operator
from daodian.kit.api.pagination import PageParams, fetch_page
from daodian.kit.clock import utcnow
from daodian.kit.errors import NotFound
from daodian.kit.ids import EntityId
from daodian.merchants.models import Store, StorePromotion

MAX_WINDOW = timedelta(days=366)


class PromotionCreate(BaseModel):
    store_id: EntityId
    starts_at: AwareDatetime = Field(description="With a time zone offset, e.g. 2025-05-01T00:00:00+08:00.")
    ends_at: AwareDatetime
    note: Annotated[str, Field(max_length=255, description="What was sold, to whom: for the record.")] = ""

    @model_validator(mode="after")
    def _window(self) -> "PromotionCreate":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.ends_at - self.starts_at > MAX_WINDOW:
            raise ValueError("a promotion may run at most 366 days")
        if self.ends_at <= utcnow():
            raise ValueError("this promotion would already be over; ends_at must be in the future")
        return self


class PromotionStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    ENDED = "ended"
    CANCELLED = "cancelled"


class PromotionRead(BaseModel):
    id: int
    store_id: int
    starts_at: datetime
    ends_at: datetime
    note: str
    created_by: int
    created_at: datetime
    cancelled_at: datetime | None
    status: PromotionStatus


def status_of(promotion: StorePromotion, now: datetime) -> PromotionStatus:
    if promotion.cancelled_at is not None:
        return PromotionStatus.CANCELLED
    if now < promotion.starts_at:
        return PromotionStatus.SCHEDULED
    return PromotionStatus.RUNNING if now < promotion.ends_at else PromotionStatus.ENDED


def promotion_read(promotion: StorePromotion, now: datetime | None = None) -> PromotionRead:
    return PromotionRead(
        id=promotion.id, store_id=promotion.store_id, starts_at=promotion.starts_at, ends_at=promotion.ends_at,
        note=promotion.note, created_by=promotion.created_by, created_at=promotion.created_at,
        cancelled_at=promotion.cancelled_at, status=status_of(promotion, now or utcnow()),
    )


def create_promotion(session: Session, principal: Principal, data: PromotionCreate) -> StorePromotion:
    require_operator(principal)
    now = utcnow()
    store = session.get(Store, data.store_id)
    if store is None:
        raise NotFound("No such store.", code="store_not_found")
    promotion = StorePromotion(store_id=store.id, starts_at=data.starts_at.astimezone(UTC),
                               ends_at=data.ends_at.astimezone(UTC),
                               note=data.note.strip(), created_by=principal.user_id, created_at=now)
    session.add(promotion)
    store.updated_at = now
    session.flush()
    return promotion


def cancel_promotion(session: Session, principal: Principal, promotion_id: int) -> None:
    """Cancel (idempotent); the record stays."""
    require_operator(principal)
    promotion = session.get(StorePromotion, promotion_id)
    if promotion is None:
        raise NotFound("No such promotion.", code="promotion_not_found")
    if promotion.cancelled_at is None:
        now = utcnow()
        promotion.cancelled_at = now
        session.get(Store, promotion.store_id).updated_at = now
        session.flush()


def list_promotions(session: Session, principal: Principal, params: PageParams, *, store_id: int | None,
                    include_inactive: bool) -> tuple[list[PromotionRead], str | None]:
    require_operator(principal)
    now = utcnow()
    stmt = select(StorePromotion)
    if store_id is not None:
        stmt = stmt.where(StorePromotion.store_id == store_id)
    if not include_inactive:
        stmt = stmt.where(StorePromotion.cancelled_at.is_(None), StorePromotion.ends_at > now)
    rows, cursor = fetch_page(session, stmt, StorePromotion.id, params)
    return [promotion_read(p, now) for p in rows], cursor
