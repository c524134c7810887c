"""Duty schedules: who may be rung when, including overnight shifts and weekday edges."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.duty import DAYS, parse_duty, parse_window, zone

NY = ZoneInfo("America/New_York")
WEEK = {name: 23 + i for i, name in enumerate(DAYS)}  # 2026-11-23 is a Monday


def at(day: str, hhmm: str, tz: ZoneInfo = NY) -> datetime:
    """Wall-clock time on the given weekday of the week of 2026-11-23, in `tz`."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 11, WEEK[day], hours, minutes, tzinfo=tz)


@pytest.mark.parametrize(
    "entry, day, hhmm, expected",
    [
        # weekday day shift: start inclusive, end exclusive, no weekend
        ("mon-fri 08:00-20:00", "mon", "08:00", True),
        ("mon-fri 08:00-20:00", "mon", "07:59", False),
        ("mon-fri 08:00-20:00", "fri", "19:59", True),
        ("mon-fri 08:00-20:00", "fri", "20:00", False),
        ("mon-fri 08:00-20:00", "sat", "10:00", False),
        ("mon-fri 08:00-20:00", "sun", "12:00", False),
        # overnight every day wraps past midnight
        ("daily 20:00-08:00", "wed", "20:00", True),
        ("daily 20:00-08:00", "wed", "23:59", True),
        ("daily 20:00-08:00", "thu", "00:00", True),
        ("daily 20:00-08:00", "thu", "07:59", True),
        ("daily 20:00-08:00", "thu", "08:00", False),
        ("daily 20:00-08:00", "thu", "19:59", False),
        # an overnight window belongs to the day it starts on
        ("fri 22:00-06:00", "fri", "22:00", True),
        ("fri 22:00-06:00", "sat", "05:59", True),
        ("fri 22:00-06:00", "sat", "06:00", False),
        ("fri 22:00-06:00", "fri", "05:00", False),
        ("fri 22:00-06:00", "thu", "23:00", False),
        ("fri 22:00-06:00", "sat", "22:00", False),
        # a day range that wraps past Sunday
        ("fri-mon 22:00-06:00", "sun", "23:00", True),
        ("fri-mon 22:00-06:00", "mon", "03:00", True),
        ("fri-mon 22:00-06:00", "tue", "05:00", True),
        ("fri-mon 22:00-06:00", "tue", "23:00", False),
        ("fri-mon 22:00-06:00", "wed", "03:00", False),
        # lists, whole days, end of day, case and spacing
        ("sat,sun 10:00-16:00", "sat", "10:00", True),
        ("sat,sun 10:00-16:00", "sun", "15:59", True),
        ("sat,sun 10:00-16:00", "sun", "16:00", False),
        ("sat,sun 10:00-16:00", "mon", "12:00", False),
        ("mon-wed,fri 09:00-17:00", "thu", "12:00", False),
        ("mon-wed,fri 09:00-17:00", "fri", "12:00", True),
        ("weekends", "sat", "00:00", True),
        ("weekends", "sun", "23:59", True),
        ("weekends", "mon", "00:00", False),
        ("weekdays", "fri", "23:59", True),
        ("sat", "sat", "12:00", True),
        ("mon 20:00-24:00", "mon", "23:59", True),
        ("mon 20:00-24:00", "tue", "00:00", False),
        ("Mon - Fri  8:00 - 20:00", "mon", "08:00", True),
        ("always", "sun", "03:00", True),
        ("ALWAYS", "wed", "12:00", True),
    ],
)
def test_window(entry: str, day: str, hhmm: str, expected: bool) -> None:
    assert parse_duty([entry]).on_duty_at(at(day, hhmm)) is expected


def test_several_entries_are_a_union() -> None:
    schedule = parse_duty(["daily 20:00-08:00", "sat,sun 08:00-20:00"])
    assert schedule.on_duty_at(at("sat", "12:00"))
    assert schedule.on_duty_at(at("tue", "02:00"))
    assert not schedule.on_duty_at(at("tue", "12:00"))
    assert str(schedule) == "daily 20:00-08:00; sat,sun 08:00-20:00"


def test_a_single_string_is_one_entry() -> None:
    assert parse_duty("always").always
    assert not parse_duty("mon-fri 08:00-20:00").always


@pytest.mark.parametrize(
    "utc, expected",
    [
        (datetime(2026, 11, 30, 13, 0, tzinfo=timezone.utc), True),  # Monday 08:00 EST (UTC-5)
        (datetime(2026, 11, 30, 12, 59, tzinfo=timezone.utc), False),  # Monday 07:59 EST
        (datetime(2026, 7, 6, 12, 0, tzinfo=timezone.utc), True),  # Monday 08:00 EDT (UTC-4)
        (datetime(2026, 7, 6, 11, 59, tzinfo=timezone.utc), False),
        (datetime(2026, 11, 28, 0, 30, tzinfo=timezone.utc), True),  # Friday 19:30 in New York, Saturday in UTC
    ],
)
def test_aware_times_are_read_in_the_roster_timezone(utc: datetime, expected: bool) -> None:
    assert parse_duty(["mon-fri 08:00-20:00"]).on_duty_at(utc) is expected


def test_naive_times_are_wall_clock_in_the_roster_timezone() -> None:
    schedule = parse_duty(["mon-fri 08:00-20:00"], "America/Los_Angeles")
    assert schedule.on_duty_at(datetime(2026, 11, 30, 8, 0))
    # 08:00 in New York is 05:00 in Los Angeles
    assert not schedule.on_duty_at(at("mon", "08:00"))
    assert schedule.on_duty_at(at("mon", "11:00"))


@pytest.mark.parametrize(
    "entry, reason",
    [
        ("", "empty duty entry"),
        ("sometimes", "'sometimes' is not a day"),
        ("monday 08:00-20:00", "write 'mon'"),
        ("mon-fry 08:00-20:00", "'fry' is not a day"),
        ("08:00-20:00", "start with the days"),
        ("mon 08:00", "expected a time range"),
        ("mon 8am-8pm", "'8am' is not a time"),
        ("mon 08:00-25:00", "'25:00' is not a time of day"),
        ("mon 08:60-20:00", "'08:60' is not a time of day"),
        ("mon 24:00-02:00", "'24:00' is not a time of day"),
        ("mon 08:00-08:00", "starts and ends at the same time"),
        ("mon 08:00-12:00 14:00-18:00", "one time range"),
        ("mon- 08:00-12:00", "a day is missing"),
    ],
)
def test_bad_syntax_says_why(entry: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_window(entry)
    assert reason in str(caught.value)


def test_no_entries_and_unknown_timezone_are_refused() -> None:
    with pytest.raises(ValueError, match="no duty entries"):
        parse_duty([])
    with pytest.raises(ValueError, match="unknown time zone 'America/Nueva_York'"):
        zone("America/Nueva_York")
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_duty(["always"], "../etc/passwd")


minutes = st.integers(min_value=0, max_value=24 * 60 - 1)


@given(start=minutes, end=minutes, moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_an_overnight_window_is_the_complement_of_the_day_window(start: int, end: int, moment: datetime) -> None:
    """'daily a-b' and 'daily b-a' split every minute of the day between them, exactly once."""
    if start == end:
        return
    fmt = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
    one = parse_duty([f"daily {fmt(start)}-{fmt(end)}"])
    other = parse_duty([f"daily {fmt(end)}-{fmt(start)}"])
    assert one.on_duty_at(moment) != other.on_duty_at(moment)
