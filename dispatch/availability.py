"""Who may not be offered a call now, whatever their duty says: the one rule offers.py asks.

A liaison is kept out of offers while paused after missed offers (missed_offers.py), or while
booked for an event, from BOOKING_TRAVEL_MINUTES before it starts until as long after it ends
(bookings.py). Duty (schedule, ON/OFF) and languages stay offers.py's own checks.
"""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.bookings import Booking, BookingStore
from dispatch.context import Context
from dispatch.pauses import Pauses


def travel_seconds(ctx: Context) -> float:
    return ctx.settings.booking_travel_minutes * 60.0


def booked_now(ctx: Context, now: float) -> dict[str, Booking]:
    """Liaisons whose booking (with its travel time) covers `now` → that booking."""
    buffer = travel_seconds(ctx)
    out: dict[str, Booking] = {}
    for booking in BookingStore(ctx.redis).holding_around(now, buffer):
        if booking.blocks(now, buffer):
            for liaison_id in booking.liaisons:
                out.setdefault(liaison_id, booking)
    return out


def unavailable_for_calls(ctx: Context, liaison_ids: Sequence[str], now: float) -> set[str]:
    """Those of `liaison_ids` not to be offered a call at `now`: paused, or booked."""
    if not liaison_ids:
        return set()
    held = set(Pauses(ctx.redis).paused(liaison_ids)) | set(booked_now(ctx, now))
    return held & set(liaison_ids)
