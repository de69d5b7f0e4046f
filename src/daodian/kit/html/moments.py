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
