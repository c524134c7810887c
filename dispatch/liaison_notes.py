"""What the dashboard says about liaisons' time: a note on a liaison's row, and the call-out on
a request's row. Read once per snapshot or stream batch, shaped here so the page, the JSON API
and the stream say the same."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from dispatch import clock
from dispatch.availability import travel_seconds
from dispatch.booking_desk import BookingDesk
from dispatch.callouts import CallOuts, summary
from dispatch.context import Context
from dispatch.liaisons import OFF, ON_CALL, RINGING
from dispatch.missed_offers import paused_label
from dispatch.pauses import Pauses
from dispatch.queue_view import LiaisonRow
from dispatch.records import RequestRecord
from dispatch.sms.to_liaisons import clock_time, local
from dispatch.states import State

_CALLOUT_STATES = frozenset({State.QUEUED, State.OFFERING, State.VENDOR_DIALING})


def with_notes(ctx: Context, rows: Sequence[LiaisonRow], now: float | None = None) -> list[LiaisonRow]:
    """The liaison board's rows with their notes: "paused after 2 missed calls", "At Corona
    community base until 8:30 PM", "Booked 6:30 PM-8:30 PM: Corona community base" (later today).
    A paused liaison not on a call shows as "Paused" and off duty, so the sergeant's "On duty"
    is the button that lifts the pause."""
    if not rows:
        return []
    now = clock.now() if now is None else now
    paused = Pauses(ctx.redis).paused([row.id for row in rows])
    notes = _booking_notes(ctx, {row.id for row in rows}, now)
    out = []
    for row in rows:
        texts = ([paused_label(paused[row.id])] if row.id in paused else []) + notes.get(row.id, [])
        if row.id in paused and row.state not in (RINGING, ON_CALL):
            row = replace(row, state=OFF, state_label="Paused", on_duty=False)
        out.append(replace(row, note="; ".join(texts)) if texts else row)
    return sorted(out, key=lambda r: (not r.on_duty, r.name))


def _booking_notes(ctx: Context, wanted: set[str], now: float) -> dict[str, list[str]]:
    notes: dict[str, list[str]] = {}
    buffer = travel_seconds(ctx)
    today = local(ctx, now).date()
    seen: set[str] = set()
    for b in BookingDesk(ctx).upcoming(days=1, now=now - buffer):
        for liaison_id in wanted.intersection(b.liaisons) - seen:
            if b.blocks(now, buffer):
                text = f"At {b.title} until {clock_time(ctx, b.end)}"
            elif b.start > now and local(ctx, b.start).date() == today:
                text = f"Booked {clock_time(ctx, b.start)}-{clock_time(ctx, b.end)}: {b.title}"
            else:
                continue
            seen.add(liaison_id)
            notes.setdefault(liaison_id, []).append(text)
    return notes


def request_callouts(ctx: Context, records: Iterable[RequestRecord]) -> dict[str, tuple[str, str]]:
    """Request id → ("2 off-duty liaisons speak Bengali", "ben") for each request that waits for
    a liaison, or went to the vendor for lack of one, whose language off-duty liaisons speak."""
    eligible = [
        rec
        for rec in records
        if rec.language
        and not rec.urgent
        and (rec.state in _CALLOUT_STATES or (rec.state == State.CONNECTED and rec.handler_kind == "vendor"))
    ]
    if not eligible:
        return {}
    reachable = CallOuts(ctx).reachable({rec.language for rec in eligible if rec.language})
    out: dict[str, tuple[str, str]] = {}
    for rec in eligible:
        count = len(reachable.get(rec.language or "", []))
        if count:
            out[rec.id] = (summary(count, rec.language_name or rec.language or ""), rec.language or "")
    return out
