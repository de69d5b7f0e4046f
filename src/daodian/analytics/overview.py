"""经营概况, the merchant console's landing figures: today's orders, verifications, revenue, bookings and new
members, read live from the database (not from the facts export, which runs behind), each beside the same
weekday last week up to the same time of day, so a morning is never compared with a whole day."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.bookings.models import Booking
from daodian.loyalty.models import Membership
from daodian.orders.models import Order
from daodian.vouchers.models import Verification

ZONE = "Asia/Shanghai"  # a merchant's day; its stores share the city's zone in every data set we load


@dataclass(frozen=True)
class Figure:
    key: str
    today: int
    last_week: int
    money: bool = False

    @property
    def change_percent(self) -> int | None:
        """Rounded change against last week; None when last week had nothing to compare with."""
        return None if not self.last_week else round((self.today - self.last_week) * 100 / self.last_week)


def _window(now: datetime, zone: str, days_back: int) -> tuple[datetime, datetime]:
    local = now.astimezone(ZoneInfo(zone))
    start = datetime.combine(local.date(), time(0), ZoneInfo(zone)) - timedelta(days=days_back)
    return start, start + (local - datetime.combine(local.date(), time(0), ZoneInfo(zone)))


def _counts(session: Session, merchant_id: int, start: datetime, end: datetime) -> dict[str, int]:
    def one(stmt) -> int:
        return int(session.scalar(stmt) or 0)

    return {
        "orders": one(select(func.count(Order.id)).where(Order.merchant_id == merchant_id,
                                                          Order.created_at >= start, Order.created_at < end)),
        "verifications": one(select(func.count(Verification.id)).where(
            Verification.merchant_id == merchant_id, Verification.reversed_at.is_(None),
            Verification.verified_at >= start, Verification.verified_at < end)),
        "revenue": one(select(func.coalesce(func.sum(Order.paid_fen - Order.refunded_fen), 0)).where(
            Order.merchant_id == merchant_id, Order.paid_at >= start, Order.paid_at < end)),
        "bookings": one(select(func.count(Booking.id)).where(Booking.merchant_id == merchant_id,
                                                              Booking.created_at >= start, Booking.created_at < end)),
        "members": one(select(func.count(Membership.id)).where(Membership.merchant_id == merchant_id,
                                                                Membership.since >= start, Membership.since < end)),
    }


def merchant_today(session: Session, merchant_id: int, now: datetime, zone: str = ZONE) -> list[Figure]:
    today = _counts(session, merchant_id, *_window(now, zone, 0))
    last_week = _counts(session, merchant_id, *_window(now, zone, 7))
    return [Figure(key, today[key], last_week[key], money=key == "revenue") for key in today]
