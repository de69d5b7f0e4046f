"""“Today” for the reports: the shops' calendar day, not the server's.

Facts carry the store's local date (analytics.export), so a report "as of today" taken by a UTC clock
after 16:00 would leave out the evening's sales in Beijing. A merchant's today is its stores' (the
latest one, when they span zones); the platform job's is the latest among all stores.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.analytics.export import DEFAULT_TIMEZONE
from daodian.kit.clock import utcnow
from daodian.merchants.models import Store


def today(session: Session, merchant_id: int | None = None) -> date:
    query = select(Store.timezone).distinct()
    if merchant_id is not None:
        query = query.where(Store.merchant_id == merchant_id)
    zones = set(session.scalars(query)) or {DEFAULT_TIMEZONE}
    now: datetime = utcnow()
    return max(now.astimezone(ZoneInfo(zone)).date() for zone in zones)
