"""Today's figures for the duty sergeant and for /metrics, computed from request records.

Pure functions over `RequestRecord`s: no Redis, no Flask, so the arithmetic is tested
on known inputs and the dashboard, the JSON API and the metrics endpoint agree.

"Today" starts at local midnight in the roster's time zone: the department's day,
not UTC's. A request belongs to the day it was created on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.records import RequestRecord
from dispatch.states import WAITING, State

TTI_BUCKETS: tuple[float, ...] = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300)
"""Time-to-interpreter histogram bounds in seconds (the +Inf bucket is implied)."""


def start_of_day(now: float, timezone: str) -> float:
    """Epoch of the most recent local midnight in `timezone` (DST-safe)."""
    local = datetime.fromtimestamp(now, tz=ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks.

    The same definition as numpy's default and `statistics.quantiles(method="inclusive")`,
    so p50 is the median and a single value is every percentile. None when empty.
    """
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class LanguageCount:
    language: str  # display name ("Spanish", "Unknown language")
    count: int


@dataclass(frozen=True)
class Spread:
    """p50 / p90 / p99 of one part of the officer's wait, seconds (None: nothing to measure)."""

    p50: float | None
    p90: float | None
    p99: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(percentile(values, 50), percentile(values, 90), percentile(values, 99))


@dataclass(frozen=True)
class WaitSplit:
    """The officer's wait for an interpreter as the service sees it, split where it is spent:
    menu (their call answered -> queued: the IVR; known once the call has ended), queue
    (queued -> the first interpreter phone dialled: routing, or nobody free) and ring (that
    dial -> an interpreter in the room: phones ringing, whispers, the vendor's IVR). `total`
    is queued -> an interpreter, as before."""

    total: Spread
    queue: Spread
    ring: Spread
    menu: Spread


def wait_split(records: Iterable[RequestRecord]) -> WaitSplit:
    reached = [r for r in records if r.time_to_interpreter is not None]
    split = [r for r in reached if r.dialled_at is not None and r.queued_at is not None and r.connected_at]
    return WaitSplit(
        total=Spread.of(tti_values(reached)),
        queue=Spread.of([max(0.0, r.dialled_at - r.queued_at) for r in split]),  # type: ignore[operator]
        ring=Spread.of([max(0.0, r.connected_at - r.dialled_at) for r in split]),  # type: ignore[operator]
        menu=Spread.of(
            [max(0.0, r.queued_at - r.call_started_at) for r in reached if r.call_started_at and r.queued_at]
        ),
    )


@dataclass(frozen=True)
class DayFigures:
    """What the "Today" panel shows. Shares are fractions 0-1 of requests that got an interpreter."""

    since: float
    requests: int
    waiting: int
    connected: int
    completed: int
    cancelled: int
    abandoned: int
    failed: int
    interpreted: int  # reached an interpreter (connected now or before)
    median_tti: float | None
    p90_tti: float | None
    by_liaison: int
    by_vendor: int
    liaison_share: float | None
    vendor_share: float | None
    by_language: tuple[LanguageCount, ...]
    wait: WaitSplit | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["by_language"] = [{"language": c.language, "count": c.count} for c in self.by_language]
        return out


def todays(records: Iterable[RequestRecord], since: float) -> list[RequestRecord]:
    """The records created at or after `since` (today's), in a stable order."""
    return sorted((r for r in records if r.created_at >= since), key=lambda r: (r.created_at, r.id))


def tti_values(records: Iterable[RequestRecord]) -> list[float]:
    """Time-to-interpreter of every record that reached one."""
    return [t for t in (r.time_to_interpreter for r in records) if t is not None]


def day_figures(records: Iterable[RequestRecord], since: float) -> DayFigures:
    """Counts, median / p90 time-to-interpreter, outcomes, liaison vs vendor, by language.

    Records created before `since` are ignored, so callers may pass any superset
    (all open requests plus the recently closed ones).
    """
    today = todays(records, since)
    states = Counter(r.state for r in today)
    ttis = tti_values(today)
    liaison = sum(1 for r in today if r.handler_kind == "liaison")
    vendor = sum(1 for r in today if r.handler_kind == "vendor")
    handled = liaison + vendor
    languages = Counter(r.language_name or "Unknown language" for r in today)
    return DayFigures(
        since=since,
        requests=len(today),
        waiting=sum(states[s] for s in WAITING),
        connected=states[State.CONNECTED] + states[State.REJOINING],
        completed=states[State.COMPLETED],
        cancelled=states[State.CANCELLED],
        abandoned=states[State.ABANDONED],
        failed=states[State.FAILED],
        interpreted=len(ttis),
        median_tti=percentile(ttis, 50),
        p90_tti=percentile(ttis, 90),
        by_liaison=liaison,
        by_vendor=vendor,
        liaison_share=liaison / handled if handled else None,
        vendor_share=vendor / handled if handled else None,
        by_language=tuple(
            LanguageCount(name, n) for name, n in sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
        wait=wait_split(today),
    )


def histogram(values: Iterable[float], bounds: Sequence[float] = TTI_BUCKETS) -> list[tuple[float, int]]:
    """Cumulative (upper bound, count) pairs ending with (+inf, total): Prometheus's shape."""
    data = list(values)
    out = [(float(b), sum(1 for v in data if v <= b)) for b in bounds]
    out.append((math.inf, len(data)))
    return out
