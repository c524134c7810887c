"""Liaison duty schedules: when the roster says a liaison may be offered calls.

Entries are short and read like a notice-board rota, one per line of the roster::

    always                      every minute of every day
    mon-fri 08:00-20:00         weekdays, 8 am until 8 pm
    sat,sun 10:00-16:00         weekends (lists and ranges mix: mon-wed,fri)
    daily 20:00-08:00           overnight: starts each evening, ends next morning
    fri-mon 22:00-06:00         ranges may wrap past Sunday
    weekends                    days alone mean the whole day (also: weekdays, daily)

Times are wall-clock times in the roster's time zone (default America/New_York), so
"08:00" stays 8 am across daylight-saving changes. The start is inclusive and the end
exclusive; "24:00" may end a window. A window that ends at or before its start wraps
past midnight and belongs to the day it starts on: "fri 22:00-06:00" covers Friday
night into Saturday morning, not Thursday night. A liaison is on duty when any entry
covers the moment. Bad syntax raises ValueError saying what was expected, because the
roster loader turns it into a start-up error with the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "America/New_York"

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()
_DAY_SETS = {
    "daily": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset((5, 6)),
}
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_EXAMPLES = "e.g. 'always', 'mon-fri 08:00-20:00', 'sat,sun 10:00-16:00' or 'daily 20:00-08:00'"


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or ValueError naming the problem (typos are common)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as America/New_York)") from None


@dataclass(frozen=True)
class Window:
    """One entry: the days it starts on (0 = Monday) and minutes since midnight [start, end)."""

    days: frozenset[int]
    start: int
    end: int
    text: str

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def covers(self, local: datetime) -> bool:
        """Whether wall-clock time `local` (already in the schedule's zone) falls in this window."""
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        if not self.overnight:
            return day in self.days and self.start <= minute < self.end
        return (day in self.days and minute >= self.start) or ((day - 1) % 7 in self.days and minute < self.end)


ALWAYS = Window(days=_DAY_SETS["daily"], start=0, end=24 * 60, text="always")


@dataclass(frozen=True)
class DutySchedule:
    """A liaison's rota: the union of its windows, evaluated in one time zone."""

    windows: tuple[Window, ...]
    timezone: ZoneInfo

    @property
    def always(self) -> bool:
        return any(w.days == ALWAYS.days and w.start == 0 and w.end == 24 * 60 for w in self.windows)

    def on_duty_at(self, dt: datetime) -> bool:
        """Whether the rota covers `dt`. An aware `dt` is converted to the schedule's zone;
        a naive one is taken as wall-clock time in that zone already."""
        local = dt.astimezone(self.timezone) if dt.tzinfo is not None else dt
        return any(w.covers(local) for w in self.windows)

    def __str__(self) -> str:
        return "; ".join(w.text for w in self.windows)


def parse_window(text: str) -> Window:
    """Parse one entry (see the module docstring); ValueError with the reason if it is not valid."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duty entry as text, {_EXAMPLES}")
    normal = re.sub(r"\s*,\s*", ",", text.strip().lower())  # "sat, sun" -> "sat,sun"
    normal = re.sub(r"(?<=[a-z])\s*-\s*(?=[a-z])|(?<=\d)\s*-\s*(?=\d)", "-", normal)  # "mon - fri", "8:00 - 20:00"
    if not normal:
        raise ValueError(f"empty duty entry; {_EXAMPLES}")
    if normal == "always":
        return ALWAYS
    parts = normal.split()
    if len(parts) > 2:
        raise ValueError(f"{text!r}: expected days and one time range, {_EXAMPLES}")
    if _TIME.match(parts[0]):
        raise ValueError(f"{text!r}: start with the days, e.g. 'daily {parts[0]}'")
    days = _parse_days(parts[0], text)
    if len(parts) == 1:
        return Window(days=days, start=0, end=24 * 60, text=text.strip())
    start, end = _parse_range(parts[1], text)
    return Window(days=days, start=start, end=end, text=text.strip())


def parse_duty(entries: Iterable[str] | str, timezone: str | ZoneInfo = DEFAULT_TIMEZONE) -> DutySchedule:
    """A schedule from roster entries (a list, or one string); at least one entry is required."""
    items = [entries] if isinstance(entries, str) else list(entries)
    if not items:
        raise ValueError(f"no duty entries; {_EXAMPLES}")
    tz = timezone if isinstance(timezone, ZoneInfo) else zone(timezone)
    return DutySchedule(windows=tuple(parse_window(item) for item in items), timezone=tz)


def _parse_days(spec: str, text: str) -> frozenset[int]:
    if spec in _DAY_SETS:
        return _DAY_SETS[spec]
    days: set[int] = set()
    for item in spec.split(","):
        first, sep, last = item.partition("-")
        a = _day(first, text)
        if not sep:
            days.add(a)
            continue
        b = _day(last, text)
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))  # wraps: fri-mon = fri,sat,sun,mon
    return frozenset(days)


def _day(name: str, text: str) -> int:
    if name in DAYS:
        return DAYS.index(name)
    full = {d: i for i, d in enumerate(DAYS)}.get(name[:3]) if len(name) > 3 else None
    hint = f" (write {DAYS[full]!r})" if full is not None else ""
    what = f"{name!r} is not a day{hint}" if name else "a day is missing"
    raise ValueError(
        f"{text!r}: {what}; use mon tue wed thu fri sat sun, "
        "ranges like mon-fri, lists like sat,sun, or daily / weekdays / weekends"
    )


def _parse_range(spec: str, text: str) -> tuple[int, int]:
    first, sep, last = spec.partition("-")
    if not sep:
        raise ValueError(f"{text!r}: expected a time range like 08:00-20:00, got {spec!r}")
    start = _minutes(first, text, may_be_24=False)
    end = _minutes(last, text, may_be_24=True)
    if start == end:
        raise ValueError(
            f"{text!r}: the window starts and ends at the same time; "
            "for the whole day write the days alone (e.g. 'daily') or 00:00-24:00"
        )
    return start, end


def _minutes(hhmm: str, text: str, may_be_24: bool) -> int:
    m = _TIME.fullmatch(hhmm)
    if not m:
        raise ValueError(f"{text!r}: {hhmm!r} is not a time; use 24-hour HH:MM, e.g. 08:00 or 20:30")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if hours == 24 and minutes == 0 and may_be_24:
        return 24 * 60
    if hours > 23 or minutes > 59:
        raise ValueError(
            f"{text!r}: {hhmm!r} is not a time of day (00:00 to 23:59"
            + (", or 24:00 to end a window)" if may_be_24 else ")")
        )
    return hours * 60 + minutes


__all__ = ["DutySchedule", "Window", "ALWAYS", "DAYS", "DEFAULT_TIMEZONE", "parse_duty", "parse_window", "zone"]
