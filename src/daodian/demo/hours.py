"""Weekly opening-hour templates in `Store.hours` form: [[iso_weekday, open_minute, close_minute], ...].

A close time at or before the opening time means the next day (KTV 12:00-02:00 closes at minute 1560),
"24:00" is midnight, and "00:00"-"24:00" is round the clock.
"""

import json

Week = tuple[tuple[int, int, int], ...]


def minute(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def span(opens: str, closes: str) -> tuple[int, int]:
    o, c = minute(opens), minute(closes)
    return o, c + 1440 if c <= o else c


def week(*spans: tuple[str, str], closed: tuple[int, ...] = (),
         days: dict[int, tuple[tuple[str, str], ...]] | None = None) -> Week:
    """The same spans every day, except `closed` weekdays and per-day replacements in `days`."""
    out = []
    for wd in range(1, 8):
        if wd in closed:
            continue
        for opens, closes in (days or {}).get(wd, spans):
            out.append((wd, *span(opens, closes)))
    return tuple(out)


ALL_DAY = week(("00:00", "24:00"))


def as_json(template: Week) -> str:
    """The JSON text stored in `stores.hours`, written once per template instead of once per store."""
    return json.dumps([list(i) for i in template])
