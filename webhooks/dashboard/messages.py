"""The dashboard stream's messages: one SSE message per event, carrying the rows it changed as
the page draws them (read once per batch, snapshot.changes), so a page applies it in place."""

from __future__ import annotations

import json

from dispatch import events, pin_guard
from dispatch.context import Context
from webhooks.dashboard import snapshot

Position = tuple[int, int]


def position(stream_id: str) -> Position:
    """A Redis stream id ("ms-seq") as something that compares in stream order."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def message(event: events.Event, found: snapshot.Changes) -> str:
    """One SSE message: the id to resume from, what happened, and the rows it changed.

    `row` (a request event) is the request's queue row as the snapshot shapes it, or null
    when the record is gone; `finished` says it belongs in "recently finished". `liaison`
    is a liaison row, `audit` the newest audit entries, `alert` an alert as the snapshot's
    `alerts` list it (the event carries it whole). A message with none of them is one the
    page cannot apply, so it re-reads the snapshot.
    """
    data: dict[str, object] = {"request": event.request, "event": event.event, "to": event.target}
    if event.request:
        data["row"] = found.requests.get(event.request)
        data["finished"] = event.request in found.finished
    liaison = event.data.get("liaison")
    if isinstance(liaison, str) and liaison in found.liaisons:
        data["liaison"] = found.liaisons[liaison]
    if event.event == "audit" and found.audit is not None:
        data["audit"] = found.audit
    if event.event == pin_guard.EVENT:
        data["alert"] = event.data
    return f"id: {event.id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def format_batch(c: Context, batch: list[events.Event]) -> list[str]:
    """The batch's messages, after one read of everything they changed (raises RedisError)."""
    liaisons = [e.data["liaison"] for e in batch if isinstance(e.data.get("liaison"), str)]
    found = snapshot.changes(
        c, (e.request for e in batch if e.request), liaisons, with_audit=any(e.event == "audit" for e in batch)
    )
    return [message(e, found) for e in batch]


def bare(event: events.Event) -> str:
    """A message without rows (the page re-reads the snapshot): used if shaping fails."""
    data = {"request": event.request, "event": event.event, "to": event.target}
    return f"id: {event.id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
