"""Moments on the pages (orders, counter, bookings, records): stored in UTC, shown in the store's local time."""

from datetime import datetime
from zoneinfo import ZoneInfo

from daodian.kit.html.rendering import env

DEFAULT_ZONE = "Asia/Shanghai"  # where a moment belongs to no store (an order for delivery)


def local_time(moment: datetime | None, zone: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone or DEFAULT_ZONE)).strftime(fmt)


# Registered once, when web.pages builds the routes: templates call local_time(moment, store.timezone).
env.globals["local_time"] = local_time


def time_left(until: datetime, now: datetime) -> dict[str, int] | None:
    """Whole days, hours and minutes until `until` (a deadline shown as a countdown); None once it has passed."""
    seconds = int((until - now).total_seconds())
    if seconds <= 0:
        return None
    minutes = seconds // 60
    return {"days": minutes // 1440, "hours": minutes % 1440 // 60, "minutes": minutes % 60}
