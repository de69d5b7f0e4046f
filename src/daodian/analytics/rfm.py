"""RFM scores and lifecycle segments: the member features marketing targets campaigns at.

Per member and merchant, over purchases (consumption records tied to the member, paid online orders)
up to `as_of`, at the store's local date:
- recency_days: days from the last purchase to as_of;
- frequency: number of purchases (receipts and orders; refunds are not purchases);
- monetary_fen: net spend (sales minus refunds), in the merchant's currency's minor unit;
- r/f/m scores 1..5: quintiles within the merchant (NTILE(5), ties broken by member id, so both engines
  agree): 5 = most recent, most frequent, highest spend.

Lifecycle segment, first rule that matches (thresholds: `Thresholds`, days):
- new: first purchase fewer than `new_days` (30) days before as_of;
- won_back: last purchase fewer than `active_days` (90) days ago, after a gap of at least `churn_days`
  (180) days since the purchase before it (the member had churned and came back);
- active: last purchase fewer than `active_days` days ago;
- at_risk: last purchase `active_days`..`churn_days` days ago;
- churned: last purchase `churn_days` or more days ago.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from daodian.analytics.models import MemberSegment
from daodian.kit.clock import utcnow


class Segment(StrEnum):
    NEW = "new"
    WON_BACK = "won_back"
    ACTIVE = "active"
    AT_RISK = "at_risk"
    CHURNED = "churned"


@dataclass(frozen=True)
class Thresholds:
    new_days: int = 30
    active_days: int = 90
    churn_days: int = 180

    def params(self, as_of: date, merchant_id: int | None = None) -> dict:
        return {"merchant_id": merchant_id, "as_of": as_of, "new_days": self.new_days,
                "active_days": self.active_days, "churn_days": self.churn_days}


COLUMNS = ("merchant_id", "consumer_id", "segment", "recency_days", "frequency", "monetary_fen", "r_score",
           "f_score", "m_score", "first_purchase_on", "last_purchase_on")


def store_segments(session: Session, scores: pd.DataFrame, as_of: date, *, merchant_id: int | None = None) -> int:
    """Replace the stored segments (of one merchant, or all) with `scores` (the `rfm` query's rows)."""
    stmt = delete(MemberSegment)
    if merchant_id is not None:
        stmt = stmt.where(MemberSegment.merchant_id == merchant_id)
    session.execute(stmt)
    now = utcnow()
    rows = [{**{c: (int(v) if c not in ("segment", "first_purchase_on", "last_purchase_on") else v)
                for c, v in zip(COLUMNS, values)}, "as_of": as_of, "computed_at": now}
            for values in scores.loc[:, list(COLUMNS)].itertuples(index=False)]
    for start in range(0, len(rows), 5000):
        session.execute(insert(MemberSegment), rows[start:start + 5000])
    session.flush()
    return len(rows)


def members_in_segment(session: Session, merchant_id: int, segment: Segment) -> list[int]:
    """Member ids of one segment at one merchant, for marketing to target (never shown to the merchant)."""
    return list(session.scalars(select(MemberSegment.consumer_id).where(
        MemberSegment.merchant_id == merchant_id, MemberSegment.segment == segment.value)
        .order_by(MemberSegment.consumer_id)))


def segment_of(session: Session, merchant_id: int, consumer_id: int) -> Segment | None:
    value = session.scalar(select(MemberSegment.segment).where(
        MemberSegment.merchant_id == merchant_id, MemberSegment.consumer_id == consumer_id))
    return Segment(value) if value else None
