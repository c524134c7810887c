"""The anonymous figures coverage planning keeps, as values: what one finished request adds, and
the sums the report reads.

A request adds one to a cell day × precinct × language × hour × outcome: its count, its
interpreter seconds and its time-to-interpreter bucket. No number, no request id, no text:
these figures outlive the records (EO 34/41), so they must say nothing about anyone. Pure
functions; dispatch.coverage_figures keeps them on Redis.
"""

from __future__ import annotations

import bisect
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
    None for a request that has not ended or has no precinct."""
    outcome = outcome_of(rec)
    if outcome is None or not rec.precinct or "|" in rec.precinct:
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
    cell = f"{rec.precinct}|{language}|{local.hour}|{outcome}"
    return Addition(local.date(), cell, tuple(values))


def pack(values: list[int] | tuple[int, ...]) -> str:
    return " ".join(str(v) for v in values)


def unpack(text: str | bytes) -> list[int]:
    out = [int(v) for v in text.split()]
    return out + [0] * (WIDTH - len(out)) if len(out) < WIDTH else out[:WIDTH]


@dataclass
class Tally:
    """One precinct × language over a period: per outcome the count and interpreter seconds,
    the time-to-interpreter buckets, and the unmet requests per hour of the week (Monday 0:00
    is 0)."""

    count: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    seconds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    unmet: dict[int, int] = field(default_factory=dict)

    def add_cell(self, weekday: int, hour: int, outcome: str, values: list[int]) -> None:
        self.count[outcome] = self.count.get(outcome, 0) + values[0]
        self.seconds[outcome] = self.seconds.get(outcome, 0) + values[1]
        if any(values[2:]):
            self.buckets = [a + b for a, b in zip(self.buckets, values[2:], strict=True)]
        if outcome in UNMET and values[0]:
            slot = weekday * 24 + hour
            self.unmet[slot] = self.unmet.get(slot, 0) + values[0]

    def merge(self, other: Tally) -> None:
        for o, n in other.count.items():
            self.count[o] = self.count.get(o, 0) + n
        for o, s in other.seconds.items():
            self.seconds[o] = self.seconds.get(o, 0) + s
        if any(other.buckets):
            self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        for slot, n in other.unmet.items():
            self.unmet[slot] = self.unmet.get(slot, 0) + n

    def as_json(self) -> dict[str, object]:
        return {
            "c": [self.count.get(o, 0) for o in OUTCOMES],
            "s": [self.seconds.get(o, 0) for o in OUTCOMES],
            "b": self.buckets,
            "u": {str(k): v for k, v in self.unmet.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Tally:
        counts, secs, buckets, unmet = raw["c"], raw["s"], raw["b"], raw["u"]
        assert isinstance(counts, list) and isinstance(secs, list) and isinstance(buckets, list)
        assert isinstance(unmet, dict)
        return cls(
            count=dict(zip(OUTCOMES, counts, strict=False)),
            seconds=dict(zip(OUTCOMES, secs, strict=False)),
            buckets=list(buckets),
            unmet={int(k): int(v) for k, v in unmet.items()},
        )


Tallies = dict[tuple[str, str], Tally]  # (precinct, language) -> its tally


def add_day(tallies: Tallies, day: date, cells: dict[bytes, bytes] | dict[str, str]) -> None:
    """Add one day's cells ("precinct|language|hour|outcome" -> packed values) to `tallies`."""
    weekday = day.weekday()
    for raw_cell, raw_values in cells.items():
        cell = raw_cell.decode() if isinstance(raw_cell, bytes) else raw_cell
        parts = cell.split("|")
        if len(parts) != 4 or not parts[2].isdigit():
            continue  # not a cell this version writes
        precinct, language, hour, outcome = parts
        tally = tallies.get((precinct, language))
        if tally is None:
            tally = tallies[(precinct, language)] = Tally()
        tally.add_cell(weekday, int(hour), outcome, unpack(raw_values))


def merge_into(tallies: Tallies, more: Tallies) -> None:
    for where, tally in more.items():
        mine = tallies.get(where)
        if mine is None:
            tallies[where] = tally
        else:
            mine.merge(tally)
