"""Read Redis once and shape what the dashboard, the JSON API and /metrics show.

The reading goes through the store and board APIs (no key names here); the shaping is
dispatch.queue_view and dispatch.stats, which are pure. Two readers: `snapshot` (all of
it, for a page opening or catching up) and `changes` (only the rows an event batch
touched, for the live stream), shaped by the same code so a row looks the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dispatch import clock, events
from dispatch.context import Context
from dispatch.liaison_notes import callout_language, with_notes
from dispatch.queue_view import (
    LiaisonRow,
    QueueRow,
    QueueView,
    build_liaisons,
    build_queue,
    queue_row,
)
from dispatch.records import RequestRecord
from dispatch.roster import Liaison
from dispatch.stats import DayFigures, day_figures, start_of_day

RECENT_SECONDS = 6 * 3600  # "recently finished": ended within this long ...
RECENT_LIMIT = 25  # ... at most this many rows
MAX_CLOSED_PER_DAY = 20000  # a bound on one read; far above any day's requests
AUDIT_ROWS = 20
REFUSAL_ROWS = 10  # aggregated refusals, shown apart from the actions


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


def connected_alert_after(c: Context) -> float:
    """Seconds after which a connected call is marked on the board (CONNECTED_ALERT_MINUTES)."""
    return c.settings.connected_alert_minutes * 60


def queue(c: Context, recs: Records) -> QueueView:
    recent = [r for r in recs.closed if (r.ended_at or 0.0) >= recs.now - RECENT_SECONDS]
    view = build_queue(
        recs.open,
        recent,
        recs.now,
        c.settings.wait_alert_seconds,
        precinct_name=lambda p: _precinct_name(c, p),
        liaison_name=lambda liaison_id: _liaison_name(c, liaison_id),
        vendor_name=c.roster.vendor.name,
        finished_limit=RECENT_LIMIT,
        connected_alert_after=connected_alert_after(c),
    )
    return replace(view, active=tuple(_with_callouts(view.active, recs.open)))


def _with_callouts(rows: Iterable[QueueRow], records: Iterable[RequestRecord]) -> list[QueueRow]:
    """The rows, with the language a call-out may be for (dispatch.liaison_notes)."""
    found = {rec.id: callout_language(rec) for rec in records}
    return [replace(row, callout_language=found[row.id]) if found.get(row.id) else row for row in rows]


def _row_shaper(c: Context, now: float) -> Callable[[RequestRecord], QueueRow]:
    """One record as the queue row `queue` would draw for it (same names, masking, handler)."""
    return lambda rec: queue_row(
        rec,
        now,
        c.settings.wait_alert_seconds,
        precinct_name=lambda p: _precinct_name(c, p),
        liaison_name=lambda liaison_id: _liaison_name(c, liaison_id),
        vendor_name=c.roster.vendor.name,
        connected_alert_after=connected_alert_after(c),
    )


def liaisons(c: Context, now: float | None = None, ids: Iterable[str] | None = None) -> list[LiaisonRow]:
    """The liaison board; only the roster liaisons in `ids` when given (one read for them all)."""
    roster: Sequence[Liaison] = c.roster.liaisons
    if ids is not None:
        wanted = set(ids)
        roster = [liaison for liaison in roster if liaison.id in wanted]
        if not roster:
            return []
    statuses = c.liaisons.statuses([liaison.id for liaison in roster])
    rows = build_liaisons(roster, statuses, clock.utc_datetime(now), lambda code: language_name(c, code))
    return with_notes(c, rows, now)


def stats(recs: Records) -> DayFigures:
    return day_figures(recs.all, recs.since)


def audit(c: Context, count: int = AUDIT_ROWS) -> list[dict[str, str]]:
    """The newest actions (people's): refusals are kept apart and cannot push them out."""
    return events.audit_entries(c.redis, count=count)


def alerts(c: Context) -> list[dict[str, Any]]:
    """What the sergeants must know that is no request's row: precincts whose PIN entry is locked."""
    return [lock.as_alert() for lock in c.pins.locks()]


def refusals(c: Context, count: int = REFUSAL_ROWS) -> list[dict[str, Any]]:
    """The newest refusals, one per source and hour with its count (dispatch.audit)."""
    return c.audit.refusals(count)


@dataclass(frozen=True)
class Changes:
    """What one batch of events changed, read once per process for every open stream."""

    requests: dict[str, dict[str, Any] | None]  # id -> queue row as in the snapshot (None: no such record)
    finished: frozenset[str]  # ids whose row belongs in "recently finished"
    liaisons: dict[str, dict[str, Any]]  # id -> liaison row (roster liaisons only)
    audit: list[dict[str, str]] | None  # the newest audit entries, when asked for


def changes(
    c: Context,
    request_ids: Iterable[str] = (),
    liaison_ids: Iterable[str] = (),
    with_audit: bool = False,
    now: float | None = None,
) -> Changes:
    """The rows behind a batch of events: one pipelined read of the requests, one of the liaisons.

    Rows are shaped by the same code as `snapshot`'s, so a page applying them draws
    exactly what a full re-read would (masked callers, names, what may be done).
    """
    now = clock.now() if now is None else now
    ids = list(dict.fromkeys(request_ids))
    shape = _row_shaper(c, now)
    rows: dict[str, dict[str, Any] | None] = dict.fromkeys(ids)
    finished: set[str] = set()
    records = c.requests.get_many(ids) if ids else []
    for row, rec in zip(_with_callouts([shape(rec) for rec in records], records), records, strict=True):
        rows[rec.id] = row.as_dict()
        if rec.finished:
            finished.add(rec.id)
    wanted = list(dict.fromkeys(liaison_ids))
    board = {row.id: row.as_dict() for row in liaisons(c, now, ids=wanted)} if wanted else {}
    return Changes(rows, frozenset(finished), board, audit(c) if with_audit else None)


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
        "finished_limit": RECENT_LIMIT,  # the page keeps "recently finished" to this many rows
        "user": user,
        "queue": queue(c, recs).as_dict(),
        "liaisons": [row.as_dict() for row in liaisons(c, recs.now)],
        "stats": stats(recs).as_dict(),
        "audit": audit(c),
        "alerts": alerts(c),
        "refusals": refusals(c),
    }
