"""One line of Yelp's business file -> one checked record, or the reason it cannot be imported.

Checks run in the order a person would read the line, so the reason given is the first thing wrong.
Field rules (name and address lengths, coordinates, opening hours) are the API's own schemas, so an
imported store is one the API would have accepted.
"""

import json
import math
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from daodian.geo.datum import Datum
from daodian.importers.yelp_categories import map_categories
from daodian.merchants import hours as hours_rules
from daodian.merchants.models import StoreStatus
from daodian.merchants.schemas import HoursInterval, Location, OpeningHours, StoreCreate

TIMEZONE = "America/New_York"  # the Boston data set; Yelp's old format carries no zone
REF_PREFIX = "yelp:"
MAX_REF = 64
WEEKDAYS = {"Monday": 1, "Tuesday": 2, "Wednesday": 3, "Thursday": 4, "Friday": 5, "Saturday": 6, "Sunday": 7}


class Rejected(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True)
class YelpStore:
    line: int
    ref: str
    name: str
    address: str
    lat: float
    lng: float
    hours: list[list[int]]
    status: StoreStatus
    primary: str
    categories: list[str]
    rating_avg: float
    rating_count: int


def business_id(obj: Any) -> str | None:
    """The id as given, for the report, even when the rest of the line is unusable."""
    value = obj.get("business_id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else None


def decode(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected("not_utf8", f"not UTF-8 text (byte {exc.start})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected("malformed_json", f"malformed JSON: {exc.msg} at column {exc.colno}") from exc


def parse(obj: Any, line: int, fallback: str | None = None) -> YelpStore:
    if not isinstance(obj, dict):
        raise Rejected("not_an_object", f"expected a JSON object, got {type(obj).__name__}")
    if obj.get("type", "business") != "business":
        raise Rejected("not_a_business", f"record type is {obj.get('type')!r}, not 'business'")
    ref = _ref(obj)
    name = _text(obj.get("name"))
    if not name:
        raise Rejected("empty_name", "name is missing or empty")
    lat, lng = _coordinates(obj)
    primary, categories = _categories(obj, fallback)
    rating_avg, rating_count = _rating(obj)
    status = _status(obj)
    hours = _hours(obj.get("hours"))
    try:
        checked = StoreCreate(name=name, name_en=name, address=_address(obj),
                              location=Location(lat=lat, lng=lng, datum=Datum.WGS84), timezone=TIMEZONE,
                              primary_category=primary, categories=categories, hours=hours)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise Rejected("invalid_field", f"{where}: {first['msg']}") from exc
    return YelpStore(
        line=line, ref=ref, name=checked.name.strip(), address=checked.address.strip(), lat=lat, lng=lng,
        hours=sorted(list(i.as_interval()) for i in hours.intervals), status=status, primary=primary,
        categories=categories, rating_avg=rating_avg, rating_count=rating_count,
    )


def _ref(obj: dict) -> str:
    bid = obj.get("business_id")
    if not isinstance(bid, str) or not bid.strip():
        raise Rejected("missing_business_id", "business_id is missing or empty")
    if bid != bid.strip() or len(REF_PREFIX) + len(bid) > MAX_REF:
        raise Rejected("invalid_business_id", f"business_id {bid!r} has spaces or is too long")
    return REF_PREFIX + bid


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    # bool is an int in Python, but `true` is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _coordinates(obj: dict) -> tuple[float, float]:
    raw_lat, raw_lng = obj.get("latitude"), obj.get("longitude")
    if raw_lat is None or raw_lng is None:
        raise Rejected("missing_coordinates", "latitude or longitude is missing")
    lat, lng = _number(raw_lat), _number(raw_lng)
    if lat is None or lng is None or not (-90 <= lat <= 90) or not (-180 <= lng <= 180):
        raise Rejected("invalid_coordinates", f"latitude/longitude {raw_lat!r}, {raw_lng!r} is not a place on Earth")
    if lat == 0 and lng == 0:
        raise Rejected("invalid_coordinates", "latitude/longitude 0, 0 is a placeholder, not a place")
    return lat, lng


def _categories(obj: dict, fallback: str | None) -> tuple[str, list[str]]:
    yelp = obj.get("categories")
    if yelp is None:
        yelp = []
    if not isinstance(yelp, list) or not all(isinstance(c, str) for c in yelp):
        raise Rejected("invalid_categories", "categories is not a list of names")
    mapped = map_categories(yelp)
    if mapped.primary is not None:
        return mapped.primary, mapped.categories
    if fallback is not None:
        return fallback, [fallback]
    listed = ", ".join(yelp) if yelp else "(none)"
    raise Rejected("unmapped_categories", f"no service category for Yelp categories: {listed}")


def _rating(obj: dict) -> tuple[float, int]:
    stars, count = obj.get("stars"), obj.get("review_count")
    if stars is None and count is None:
        return 0.0, 0  # not rated yet
    value = _number(stars)
    if value is None or not (0 <= value <= 5):
        raise Rejected("invalid_rating", f"stars {stars!r} is not a number from 0 to 5")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise Rejected("invalid_rating", f"review_count {count!r} is not a whole number >= 0")
    return value, count


def _status(obj: dict) -> StoreStatus:
    is_open = obj.get("open", True)
    if not isinstance(is_open, bool):
        raise Rejected("invalid_field", f"open is {is_open!r}, not true or false")
    # Closed businesses are still imported: their history (ratings, reviews) is real.
    return StoreStatus.OPEN if is_open else StoreStatus.CLOSED


def _address(obj: dict) -> str:
    lines = [part.strip() for part in _text(obj.get("full_address")).splitlines() if part.strip()]
    if not lines:
        lines = [p for p in (_text(obj.get("city")), _text(obj.get("state"))) if p]
    if not lines:
        raise Rejected("missing_address", "full_address, city and state are all empty")
    return ", ".join(lines)


def _minute(text: Any) -> int:
    if not (isinstance(text, str) and len(text) == 5 and text[2] == ":" and text[:2].isdigit()
            and text[3:].isdigit() and int(text[:2]) <= 23 and int(text[3:]) <= 59):
        raise ValueError
    return hours_rules.parse_hhmm(text)


def _hours(raw: Any) -> OpeningHours:
    """Yelp's {"Friday": {"open": "18:00", "close": "02:00"}} as our intervals.

    Closing at or before opening means the next day: 18:00-02:00 ends at 02:00 on Saturday, and equal
    times (00:00-00:00, 09:00-09:00) mean open round the clock from that time.
    """
    if raw is None:
        return OpeningHours(intervals=[])
    if not isinstance(raw, dict):
        raise Rejected("invalid_hours", "hours is not an object of weekdays")
    intervals = []
    for day, span in raw.items():
        if day not in WEEKDAYS or not isinstance(span, dict):
            raise Rejected("invalid_hours", f"hours: {day!r} is not a weekday with open/close times")
        try:
            opens, closes = _minute(span.get("open")), _minute(span.get("close"))
        except ValueError:
            raise Rejected("invalid_hours", f"hours on {day}: {span.get('open')!r}-{span.get('close')!r} "
                                            "is not HH:MM-HH:MM") from None
        if closes <= opens:
            closes += hours_rules.MINUTES_PER_DAY
        intervals.append((WEEKDAYS[day], opens, closes))
    try:
        return OpeningHours(intervals=[_interval(i) for i in intervals])
    except ValidationError as exc:
        raise Rejected("invalid_hours", f"hours: {exc.errors()[0]['msg']}") from exc


def _interval(interval: tuple[int, int, int]) -> HoursInterval:
    weekday, opens, closes = interval
    day = hours_rules.MINUTES_PER_DAY
    return HoursInterval(weekday=weekday, opens=hours_rules.hhmm(opens),
                         closes="24:00" if closes == day else hours_rules.hhmm(closes), next_day=closes > day)
