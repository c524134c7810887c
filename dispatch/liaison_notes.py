"""What the dashboard says about liaisons' time: a note on a liaison's row, and the call-out on
a request's row. Read once per snapshot or stream batch, shaped here so the page, the JSON API
and the stream say the same."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dispatch import clock
from dispatch.availability import travel_seconds
from dispatch.booking_desk import BookingDesk
from dispatch.callouts import CallOuts, summary
from dispatch.context import Context
from dispatch.missed_offers import paused_label
from dispatch.pauses import Pauses
from dispatch.records import RequestRecord
from dispatch.sms.to_liaisons import clock_time, local
from dispatch.states import State

_CALLOUT_STATES = frozenset({State.QUEUED, State.OFFERING, State.VENDOR_DIALING})


def liaison_notes(ctx: Context, liaison_ids: Sequence[str], now: float | None = None) -> dict[str, str]:
    """Liaison id → "paused after 2 missed calls", "At Corona community base until 8:30 PM",
    "Booked 6:30 PM-8:30 PM: Corona community base" (later today); only those with a note."""
    now = clock.now() if now is None else now
    if not liaison_ids:
        return {}
    wanted = set(liaison_ids)
    notes: dict[str, list[str]] = {}
    for liaison_id, misses in Pauses(ctx.redis).paused(liaison_ids).items():
        notes.setdefault(liaison_id, []).append(paused_label(misses))
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
    return {liaison_id: "; ".join(texts) for liaison_id, texts in notes.items()}


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
