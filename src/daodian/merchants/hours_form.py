"""The opening-hours form: rows of (weekday, opens, closes, next day) <-> the OpeningHours model.

Each row has a random key in its field names (`opens-<key>`), so htmx can add rows without the
server or the page keeping a counter. A weekday without rows is closed.
"""

import re
import secrets
from dataclasses import dataclass, field
from datetime import date

from pydantic import ValidationError
from starlette.datastructures import FormData

from daodian.kit.html.forms import N_, text
from daodian.merchants.hours import find_overlap
from daodian.merchants.schemas import HoursInterval, OpeningHours

WEEKDAYS = range(1, 8)
MAX_ROWS = 64
_KEY = re.compile(r"^[a-z0-9]{1,16}$")
_DATE_SPLIT = re.compile(r"[\s,，;；]+")


@dataclass
class HoursRow:
    weekday: int
    opens: str = ""
    closes: str = ""
    next_day: bool = False
    key: str = field(default_factory=lambda: secrets.token_hex(4))
    error: str | None = None  # a msgid

    def interval(self) -> HoursInterval:
        # A time input cannot hold 24:00; "closes 00:00" on the same day means midnight, the end of the day.
        closes = "24:00" if self.closes == "00:00" and not self.next_day else self.closes
        return HoursInterval(weekday=self.weekday, opens=self.opens, closes=closes, next_day=self.next_day)


@dataclass
class HoursForm:
    rows: list[HoursRow]
    closed_dates: str = ""
    errors: list[str] = field(default_factory=list)  # msgids about the whole form

    def rows_of(self, weekday: int) -> list[HoursRow]:
        return [r for r in self.rows if r.weekday == weekday]


def from_hours(hours: OpeningHours) -> HoursForm:
    rows = [HoursRow(weekday=i.weekday, opens=i.opens, closes="00:00" if i.closes == "24:00" else i.closes,
                     next_day=i.next_day) for i in hours.intervals]
    rows.sort(key=lambda r: (r.weekday, r.opens))
    return HoursForm(rows=rows, closed_dates="\n".join(d.isoformat() for d in hours.closed_dates))


def _posted_rows(form: FormData) -> list[HoursRow]:
    rows = []
    for name in form:
        if not name.startswith("weekday-"):
            continue
        key = name.removeprefix("weekday-")
        weekday = text(form, name, 2)
        if not _KEY.match(key) or not weekday.isdigit() or int(weekday) not in WEEKDAYS:
            continue
        if form.get(f"remove-{key}"):
            continue
        row = HoursRow(weekday=int(weekday), opens=text(form, f"opens-{key}", 8), closes=text(form, f"closes-{key}", 8),
                       next_day=bool(form.get(f"next_day-{key}")), key=key)
        if row.opens or row.closes:  # a row left blank is no row
            rows.append(row)
    rows.sort(key=lambda r: r.weekday)  # stable: keeps the order rows had within a day
    return rows[:MAX_ROWS]


def _closed_dates(raw: str) -> list[date]:
    return sorted({date.fromisoformat(part) for part in _DATE_SPLIT.split(raw) if part})


def parse(form: FormData) -> tuple[HoursForm, OpeningHours | None]:
    """The posted form as it should be shown again, and the hours when everything in it is valid."""
    state = HoursForm(rows=_posted_rows(form), closed_dates=text(form, "closed_dates", 8000))
    intervals = []
    for row in state.rows:
        try:
            intervals.append(row.interval())
        except ValidationError as exc:
            # Our own words, in the page's language; the model's checks decide which applies.
            row.error = (N_("Enter times as HH:MM.") if any(e["type"] == "string_pattern_mismatch" for e in exc.errors())
                         else N_("Closing must be after opening; for hours past midnight tick “next day”."))
    try:
        dates = _closed_dates(state.closed_dates)
    except ValueError:
        state.errors.append(N_("Write closed dates as YYYY-MM-DD, one per line."))
        dates = []
    if any(r.error for r in state.rows):
        state.errors.insert(0, N_("Check the time ranges marked below."))
    if state.errors:
        return state, None
    try:
        return state, OpeningHours(intervals=intervals, closed_dates=dates)
    except ValidationError as exc:
        _explain(state, exc)
        return state, None


def _explain(state: HoursForm, exc: ValidationError) -> None:
    clash = find_overlap([r.interval().as_interval() for r in state.rows])
    if clash:
        for row in state.rows:
            if row.interval().as_interval() in clash:
                row.error = N_("This time range overlaps another one.")
        state.errors.append(N_("Some time ranges overlap."))
    for problem in exc.errors():
        if problem.get("type") == "too_long":
            state.errors.append(N_("Too many time ranges or closed dates."))
    if not state.errors:
        state.errors.append(N_("The opening hours could not be saved."))


def with_blank_row(state: HoursForm, weekday: int) -> HoursForm:
    """The form again with one more empty row on a weekday (the no-JavaScript "add" button)."""
    if weekday in WEEKDAYS and len(state.rows) < MAX_ROWS:
        state.rows.append(HoursRow(weekday=weekday))
        state.rows.sort(key=lambda r: r.weekday)
    return state
