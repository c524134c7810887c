"""Liaisons' time beyond calls (issue 18), the services the entrypoints use: bookings and their
reminders, call-outs, the calendar feeds' links. Missed offers and pauses need no entrypoint
of their own: offers.py and the liaisons' texts reach them (missed_offers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.booking_desk import BookingDesk
from dispatch.calendar_feeds import CalendarFeeds
from dispatch.callouts import CallOuts
from dispatch.context import Context


@dataclass(frozen=True)
class LiaisonTime:
    bookings: BookingDesk
    callouts: CallOuts
    feeds: CalendarFeeds

    @classmethod
    def build(cls, ctx: Context) -> LiaisonTime:
        return cls(BookingDesk(ctx), CallOuts(ctx), CalendarFeeds(ctx.redis))
