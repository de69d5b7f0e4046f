"""Opening hours: weekly intervals in the store's own time zone, past-midnight included.

An interval is (iso_weekday, open_minute, close_minute) with minutes counted from the start of that
weekday; close_minute > 1440 means the store closes after midnight (Friday 18:00-02:00 is
(5, 1080, 1560)). An interval belongs to the day it starts on, also for closed dates.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

Interval = tuple[int, int, int]


def week_spans(intervals: list[Interval]) -> list[tuple[int, int]]:
    """Intervals as [start, end) minutes of the week, Monday 00:00 = 0."""
    return [((wd - 1) * MINUTES_PER_DAY + o, (wd - 1) * MINUTES_PER_DAY + c) for wd, o, c in intervals]


def find_overlap(intervals: list[Interval]) -> tuple[Interval, Interval] | None:
    """The first two intervals that overlap, counting Sunday night spilling into Monday."""
    spans = sorted(zip(week_spans(intervals), intervals))
    for (a_span, a), (b_span, b) in zip(spans, spans[1:]):
        if b_span[0] < a_span[1]:
            return a, b
    if len(spans) > 1:
        (last_span, last), (first_span, first) = spans[-1], spans[0]
        if last_span[1] > MINUTES_PER_WEEK and first_span[0] < last_span[1] - MINUTES_PER_WEEK:
            return last, first
    return None


def is_open_at(intervals: list[Interval], closed_dates: list[str], tz: str, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    closed = set(closed_dates)
    for start_day, offset in ((today, 0), (yesterday, MINUTES_PER_DAY)):
        if start_day.isoformat() in closed:
            continue
        weekday = start_day.isoweekday()
        for wd, opens, closes in intervals:
            if wd == weekday and opens <= minute + offset < closes:
                return True
    return False


def hhmm(minute: int) -> str:
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def sorted_dates(dates: list[date]) -> list[str]:
    return sorted({d.isoformat() for d in dates})
