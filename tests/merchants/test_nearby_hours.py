"""The nearby index's vectorised opening-hours check agrees with merchants.hours, store by store."""

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from daodian.merchants import hours
from daodian.nearby.hours import WeekHours

ZONES = ["Asia/Shanghai", "Asia/Tokyo", "America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"]

interval = st.tuples(st.integers(1, 7), st.integers(0, 1439), st.integers(1, 1440)).map(
    lambda t: (t[0], t[1], t[1] + t[2]))  # up to 24 hours long, possibly past midnight
week = st.lists(interval, max_size=6).filter(lambda iv: hours.find_overlap(iv) is None)
moment = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC))


@st.composite
def stores(draw):
    at = draw(moment)
    around = [(at + timedelta(days=d)).date() for d in (-2, -1, 0, 1)]
    closed = draw(st.lists(st.sampled_from(around), max_size=3, unique=True))
    return draw(week), [d.isoformat() for d in closed], draw(st.sampled_from(ZONES)), at


@settings(max_examples=200, deadline=None)
@given(st.lists(stores(), min_size=1, max_size=12), moment)
def test_vectorised_open_now_matches_the_rule(cases, at):
    book = WeekHours()
    patterns, zones, expected = [], [], []
    zone_names = sorted(ZONES)
    for intervals, closed, tz, _ in cases:
        patterns.append(book.intern(json.dumps([list(i) for i in intervals]), json.dumps(closed)))
        zones.append(zone_names.index(tz))
        expected.append(hours.is_open_at(intervals, closed, tz, at))
    got = book.open_at(np.array(patterns, dtype=np.int32), np.array(zones, dtype=np.int16), zone_names, at)
    assert got.tolist() == expected


def test_each_store_at_its_own_moment():
    # Also at each case's own moment (near its closed dates), one store at a time.
    @settings(max_examples=300, deadline=None)
    @given(stores())
    def check(case):
        intervals, closed, tz, at = case
        book = WeekHours()
        pattern = book.intern(json.dumps([list(i) for i in intervals]), json.dumps(closed))
        got = book.open_at(np.array([pattern], dtype=np.int32), np.array([0], dtype=np.int16), [tz], at)
        assert bool(got[0]) == hours.is_open_at(intervals, closed, tz, at)

    check()


def test_patterns_are_interned():
    book = WeekHours()
    a = book.intern("[[1, 540, 1260]]", "[]")
    assert book.intern("[[1, 540, 1260]]", "[]") == a
    assert book.intern("[[1, 540, 1261]]", "[]") != a
    assert book.intern(None, None) == book.intern("[]", "[]")
    monday_10 = datetime(2025, 5, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert book.open_at(np.array([a], np.int32), np.array([0], np.int16), ["Asia/Shanghai"], monday_10).tolist() == [True]
    empty = book.open_at(np.array([], np.int32), np.array([], np.int16), ["Asia/Shanghai"], monday_10)
    assert empty.tolist() == []
    assert date(2025, 5, 5).isoweekday() == 1
