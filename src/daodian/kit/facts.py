"""The closed loop's facts: an append-only outbox written in the same transaction as the change.

Every order, payment, refund, verification, consumption record, coupon event, points entry, review
and follow appends one fact here. The export job copies facts to Parquet in id order, which makes
it resumable and exactly-once; analytics read the Parquet, never the live tables. The database
refuses UPDATE and DELETE on this table (see migration 0004_facts).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class Fact(Base):
    __tablename__ = "facts"

    id: Mapped[IdPk]  # export order: strictly increasing
    kind: Mapped[str] = mapped_column(String(48), index=True)  # e.g. "order.paid", "voucher.verified"
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stores.id"))
    # The account id is a pseudonym once the account is deleted (its personal data is erased).
    consumer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


def append_fact(session: Session, kind: str, payload: dict[str, Any], *, occurred_at: datetime | None = None,
                merchant_id: int | None = None, store_id: int | None = None,
                consumer_id: int | None = None) -> Fact:
    """Append one fact; amounts in the payload are integer fen, times ISO-8601 UTC strings."""
    fact = Fact(kind=kind, payload=payload, occurred_at=occurred_at or utcnow(), merchant_id=merchant_id,
                store_id=store_id, consumer_id=consumer_id)
    session.add(fact)
    session.flush()
    return fact


def fact_values(kind: str, payload: dict[str, Any], *, occurred_at: datetime, merchant_id: int | None = None,
                store_id: int | None = None, consumer_id: int | None = None) -> dict[str, Any]:
    """`append_fact`'s row for Core statements (INSERT_FACT), one or many at once (a batch of coupon claims)."""
    return {"kind": kind, "payload": payload, "occurred_at": occurred_at, "recorded_at": utcnow(),
            "merchant_id": merchant_id, "store_id": store_id, "consumer_id": consumer_id}


INSERT_FACT = insert(Fact.__table__)
