"""Read Redis once and shape what the dashboard, the JSON API and /metrics show.

The reading goes through the store and board APIs (no key names here); the shaping is
dispatch.queue_view and dispatch.stats, which are pure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dispatch import clock, events
from dispatch.context import Context
from dispatch.queue_view import LiaisonRow, QueueView, build_liaisons, build_queue
from dispatch.records import RequestRecord
from dispatch.stats import DayFigures, day_figures, start_of_day

RECENT_SECONDS = 6 * 3600       # "recently finished": ended within this long ...
RECENT_LIMIT = 25               # ... at most this many rows
MAX_CLOSED_PER_DAY = 20000      # a bound on one read; far above any day's requests
AUDIT_ROWS = 20


@dataclass(frozen=True)
class Records:
    """Open requests (any age) and those closed since `since`, read at `now`."""

    now: float
    since: float
    open: list[RequestRecord]
    closed: list[RequestRecord]

    @property
    def all(self) -> list[RequestRecord]:
        return self.open + self.closed


def load(c: Context, now: float | None = None) -> Records:
    now = clock.now() if now is None else now
    today = start_of_day(now, c.roster.timezone)
    since = min(today, now - RECENT_SECONDS)
    open_records = c.requests.get_many(c.requests.open_ids())
    closed = c.requests.get_many(c.requests.closed_ids(since, limit=MAX_CLOSED_PER_DAY))
    return Records(now, today, open_records, closed)


def language_name(c: Context, code: str) -> str:
    found = c.catalog.get(code)
    return found.name if found else code


def _precinct_name(c: Context, precinct_id: str) -> str:
    found = c.roster.precinct(precinct_id)
    return found.name if found else precinct_id


def _liaison_name(c: Context, liaison_id: str) -> str:
    found = c.roster.liaison(liaison_id)
    return found.name if found else liaison_id


def queue(c: Context, recs: Records) -> QueueView:
    recent = [r for r in recs.closed if (r.ended_at or 0.0) >= recs.now - RECENT_SECONDS]
    return build_queue(recs.open, recent, recs.now, c.settings.wait_alert_seconds,
                       precinct_name=lambda p: _precinct_name(c, p),
                       liaison_name=lambda l: _liaison_name(c, l),
                       vendor_name=c.roster.vendor.name, finished_limit=RECENT_LIMIT)


def liaisons(c: Context, now: float | None = None) -> list[LiaisonRow]:
    roster = c.roster.liaisons
    statuses = c.liaisons.statuses([l.id for l in roster])
    return build_liaisons(roster, statuses, clock.utc_datetime(now), lambda code: language_name(c, code))


def stats(recs: Records) -> DayFigures:
    return day_figures(recs.all, recs.since)


def audit(c: Context, count: int = AUDIT_ROWS) -> list[dict[str, str]]:
    return events.audit_entries(c.redis, count=count)


def snapshot(c: Context, user: dict[str, Any]) -> dict[str, Any]:
    """Everything the page draws, plus the stream position it was read at.

    The position is taken first: an event that lands while this is being read is
    then delivered again by the stream, never lost between snapshot and stream.
    """
    last_event = events.last_id(c.redis)
    last_event = last_event if last_event != "0" else "0-0"  # an empty stream: everything from its start
    recs = load(c)
    return {
        "now": recs.now,
        "last_event_id": last_event,
        "user": user,
        "queue": queue(c, recs).as_dict(),
        "liaisons": [row.as_dict() for row in liaisons(c, recs.now)],
        "stats": stats(recs).as_dict(),
        "audit": audit(c),
    }
