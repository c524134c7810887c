"""The anonymous figures coverage planning keeps, as values: what one finished request adds, and
the sums the report reads.

A request adds one to a cell day × precinct × language × hour × outcome: its count, its
interpreter seconds and its time-to-interpreter bucket. No number, no request id, no text:
these figures outlive the records (EO 34/41), so they must say nothing about anyone. Pure
functions; dispatch.coverage_figures keeps them on Redis.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dispatch.records import RequestRecord
from dispatch.states import State
from dispatch.stats import TTI_BUCKETS

LIAISON, VENDOR, ABANDONED, FAILED, CANCELLED = "liaison", "vendor", "abandoned", "failed", "cancelled"
OUTCOMES = (LIAISON, VENDOR, ABANDONED, FAILED, CANCELLED)
UNMET = frozenset({VENDOR, ABANDONED, FAILED})  # demand no liaison met; a sergeant's cancel is not counted
BUCKETS = len(TTI_BUCKETS) + 1  # the last is "over the last bound"
WIDTH = 2 + BUCKETS  # a cell's value: count, interpreter seconds, then the buckets
UNKNOWN_LANGUAGE = "und"  # a request whose caller did not know the language
UNKNOWN_PRECINCT = "-"
HOURS_OF_WEEK = 7 * 24


@dataclass(frozen=True)
class Addition:
    """What one finished request adds: where (day, cell) and how much (the value)."""

    day: date
    cell: str  # "precinct|language|hour|outcome"
    values: tuple[int, ...]  # WIDTH ints


def outcome_of(rec: RequestRecord) -> str | None:
    """The request's outcome for coverage; None while it has not ended."""
    if rec.state == State.COMPLETED:
        return LIAISON if rec.handler_kind == LIAISON else VENDOR
    return {State.ABANDONED: ABANDONED, State.FAILED: FAILED, State.CANCELLED: CANCELLED}.get(rec.state)


def bucket_of(seconds: float) -> int:
    """The index of the time-to-interpreter bucket `seconds` falls in (upper bounds inclusive)."""
    return bisect.bisect_left(TTI_BUCKETS, seconds)


def addition(rec: RequestRecord, timezone: str) -> Addition | None:
    """What a finished request adds, in the department's local day and hour of its creation;
    None for a request that has not ended. One with no precinct is counted under "-"."""
    outcome = outcome_of(rec)
    if outcome is None:
        return None
    local = datetime.fromtimestamp(rec.created_at, tz=ZoneInfo(timezone))
    values = [0] * WIDTH
    values[0] = 1
    if rec.connected_at is not None and rec.ended_at is not None and outcome in (LIAISON, VENDOR):
        values[1] = max(0, round(rec.ended_at - rec.connected_at))
    tti = rec.time_to_interpreter
    if tti is not None and outcome in (LIAISON, VENDOR):
        values[2 + bucket_of(tti)] = 1
    language = (rec.language or UNKNOWN_LANGUAGE).replace("|", "")
    precinct = rec.precinct.replace("|", "") or UNKNOWN_PRECINCT
    cell = f"{precinct}|{language}|{local.hour}|{outcome}"
    return Addition(local.date(), cell, tuple(values))


def pack(values: list[int] | tuple[int, ...]) -> str:
    return " ".join(str(v) for v in values)


OUTCOME_INDEX = {o: i for i, o in enumerate(OUTCOMES)}
_UNMET_INDEX = frozenset(OUTCOME_INDEX[o] for o in UNMET)


@dataclass(slots=True)
class Tally:
    """One precinct × language over a period: per outcome (in OUTCOMES order) the count and the
    interpreter seconds, the time-to-interpreter buckets, and the unmet requests per hour of the
    week (Monday 0:00 is 0). Plain lists: a year city-wide sums hundreds of thousands of cells."""

    counts: list[int] = field(default_factory=lambda: [0] * len(OUTCOMES))
    seconds: list[int] = field(default_factory=lambda: [0] * len(OUTCOMES))
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    unmet: dict[int, int] = field(default_factory=dict)

    def n(self, outcome: str) -> int:
        return self.counts[OUTCOME_INDEX[outcome]]

    def secs(self, outcome: str) -> int:
        return self.seconds[OUTCOME_INDEX[outcome]]


Tallies = dict[tuple[str, str], Tally]  # (precinct, language) -> its tally


def add_day(tallies: Tallies, day: date, cells: Mapping[bytes, bytes] | Mapping[str, str], sign: int = 1) -> None:
    """Add one day's cells ("precinct|language|hour|outcome" -> packed values) to `tallies`;
    `sign` -1 takes them away (sums are exact: a period rolls forward a day at a time)."""
    base = day.weekday() * 24
    for raw_cell, raw_values in cells.items():
        cell = raw_cell.decode() if isinstance(raw_cell, bytes) else raw_cell
        parts = cell.split("|")
        if len(parts) != 4 or not parts[2].isdigit() or parts[3] not in OUTCOME_INDEX:
            continue  # not a cell this version writes
        where = (parts[0], parts[1])
        tally = tallies.get(where)
        if tally is None:
            tally = tallies[where] = Tally()
        values = (raw_values.decode() if isinstance(raw_values, bytes) else raw_values).split()
        o = OUTCOME_INDEX[parts[3]]
        n = sign * int(values[0])
        tally.counts[o] += n
        tally.seconds[o] += sign * int(values[1])
        buckets = tally.buckets
        for i, v in enumerate(values[2 : 2 + BUCKETS]):
            if v != "0":
                buckets[i] += sign * int(v)
        if o in _UNMET_INDEX and n:
            slot = base + int(parts[2])
            left = tally.unmet.get(slot, 0) + n
            if left:
                tally.unmet[slot] = left
            else:
                del tally.unmet[slot]
