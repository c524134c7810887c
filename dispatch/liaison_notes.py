"""What the dashboard says about liaisons' time: a note on a liaison's row, whether a call-out
would text them, and which requests a call-out may be for. Read once per snapshot or stream
batch, shaped here so the page, the JSON API and the stream say the same.

The page counts a request's call-out ("2 off-duty liaisons speak Bengali") from the liaison rows
it holds (their `callout` and languages): a liaison going off duty changes their row only, and
the count on every request follows, exactly as a fresh page load would draw it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dispatch import clock
from dispatch.availability import booked_now, travel_seconds
from dispatch.booking_desk import BookingDesk
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
    booked = booked_now(ctx, now)
    out = []
    for row in rows:
        texts = ([paused_label(paused[row.id])] if row.id in paused else []) + notes.get(row.id, [])
        free = row.state not in (RINGING, ON_CALL)
        if row.id in paused and free:
            row = replace(row, state=OFF, state_label="Paused", on_duty=False)
        callout = free and not row.on_duty and row.id not in booked
        out.append(replace(row, note="; ".join(texts), callout=callout) if texts or callout else row)
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


def callout_language(rec: RequestRecord) -> str:
    """The language a call-out may be for: a request with a known language that waits for a
    liaison, or went to the vendor for lack of one (not an urgent one, which goes there first)."""
    if not rec.language or rec.urgent:
        return ""
    waiting = rec.state in _CALLOUT_STATES or (rec.state == State.CONNECTED and rec.handler_kind == "vendor")
    return rec.language if waiting else ""
