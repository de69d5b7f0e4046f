"""merchants.hours.is_open_at: weekly intervals in the store's zone, past midnight, closed dates."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from daodian.merchants.hours import find_overlap, is_open_at

SHANGHAI = "Asia/Shanghai"
CST = timezone(timedelta(hours=8))
# 2026-11-20 is a Friday.
FRI_18_TO_02 = (5, 18 * 60, 26 * 60)
WEEKDAYS_9_TO_21 = [(d, 9 * 60, 21 * 60) for d in range(1, 6)]


def at(text: str, tz=CST) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize("moment, expected", [
    (at("2026-11-20 08:59"), False), (at("2026-11-20 09:00"), True), (at("2026-11-20 20:59"), True),
    (at("2026-11-20 21:00"), False), (at("2026-11-21 12:00"), False),  # Saturday: no interval
])
def test_weekday_hours_in_local_time(moment, expected):
    assert is_open_at(WEEKDAYS_9_TO_21, [], SHANGHAI, moment) is expected


def test_the_same_instant_is_read_in_the_store_zone_not_utc():
    moment = at("2026-11-20 02:00", UTC)  # 10:00 in Shanghai, 02:00 in London
    assert is_open_at(WEEKDAYS_9_TO_21, [], SHANGHAI, moment)
    assert not is_open_at(WEEKDAYS_9_TO_21, [], "Europe/London", moment)
    assert not is_open_at(WEEKDAYS_9_TO_21, [], SHANGHAI, at("2026-11-20 13:30", UTC))  # 21:30 local


@pytest.mark.parametrize("moment, expected", [
    (at("2026-11-20 17:59"), False), (at("2026-11-20 23:30"), True),
    (at("2026-11-21 00:00"), True), (at("2026-11-21 01:30"), True),  # Saturday 01:30, from Friday's interval
    (at("2026-11-21 02:00"), False), (at("2026-11-21 18:30"), False),  # Saturday has no interval of its own
    (at("2026-11-20 01:30"), False),  # Friday 01:30: Thursday had no late interval
])
def test_past_midnight_belongs_to_the_day_it_starts(moment, expected):
    assert is_open_at([FRI_18_TO_02], [], SHANGHAI, moment) is expected


def test_sunday_night_spills_into_monday():
    sunday_late = [(7, 22 * 60, 27 * 60)]  # Sunday 22:00 - Monday 03:00
    assert is_open_at(sunday_late, [], SHANGHAI, at("2026-11-22 23:00"))
    assert is_open_at(sunday_late, [], SHANGHAI, at("2026-11-23 02:59"))
    assert not is_open_at(sunday_late, [], SHANGHAI, at("2026-11-23 03:00"))
    assert not is_open_at(sunday_late, [], SHANGHAI, at("2026-11-24 02:00"))  # Tuesday: Monday has no late hours


def test_a_closed_date_closes_the_intervals_that_start_on_it():
    assert not is_open_at([FRI_18_TO_02], ["2026-11-20"], SHANGHAI, at("2026-11-20 20:00"))
    assert not is_open_at([FRI_18_TO_02], ["2026-11-20"], SHANGHAI, at("2026-11-21 01:00"))
    # Closing Saturday does not cut Friday's night short.
    assert is_open_at([FRI_18_TO_02], ["2026-11-21"], SHANGHAI, at("2026-11-21 01:00"))
    assert is_open_at([FRI_18_TO_02], ["2026-11-13"], SHANGHAI, at("2026-11-20 20:00"))


def test_round_the_clock_and_no_hours():
    all_week = [(d, 0, 24 * 60) for d in range(1, 8)]
    assert all(is_open_at(all_week, [], SHANGHAI, at("2026-11-20 00:00") + timedelta(minutes=m))
               for m in range(0, 7 * 24 * 60, 97))
    assert not is_open_at([], [], SHANGHAI, at("2026-11-20 12:00"))


def test_daylight_saving_zones_use_local_wall_time():
    berlin = [(7, 2 * 60, 4 * 60)]  # Sunday 02:00-04:00 local; on 2026-03-29 02:00-03:00 does not exist
    assert is_open_at(berlin, [], "Europe/Berlin", datetime(2026, 3, 29, 1, 30, tzinfo=UTC))  # 03:30 CEST
    assert not is_open_at(berlin, [], "Europe/Berlin", datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # 01:30 CET


def test_find_overlap_sees_week_wraparound_and_ignores_touching():
    assert find_overlap([(1, 9 * 60, 12 * 60), (1, 12 * 60, 14 * 60)]) is None  # touching is fine
    assert find_overlap([(7, 22 * 60, 27 * 60), (1, 2 * 60, 9 * 60)]) == ((7, 1320, 1620), (1, 120, 540))
    assert find_overlap([(7, 22 * 60, 27 * 60), (1, 3 * 60, 9 * 60)]) is None
