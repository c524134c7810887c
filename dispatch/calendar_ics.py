"""Bookings as an iCalendar (RFC 5545) feed, written by the `icalendar` library.

Times are UTC (a calendar shows them in its own zone). The place is left out: it is for
sergeants only, and a feed's URL may end up in any calendar app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from icalendar import Calendar, Event

from dispatch import clock
from dispatch.bookings import Booking

PRODID = "-//Interpretation dispatch//Bookings//EN"


def uid(booking: Booking, domain: str) -> str:
    return f"booking-{booking.number}@{domain}"


def render(
    bookings: Iterable[Booking],
    name: str,
    domain: str,
    language_name: Callable[[str], str],
    liaison_name: Callable[[str], str],
) -> bytes:
    """The feed called `name`, one VEVENT per booking (cancelled ones left out)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for b in bookings:
        if b.cancelled:
            continue
        event = Event()
        event.add("uid", uid(b, domain))
        event.add("dtstamp", clock.utc_datetime(b.created_at or b.start))
        event.add("dtstart", clock.utc_datetime(b.start))
        event.add("dtend", clock.utc_datetime(b.end))
        event.add("summary", b.title)
        languages = ", ".join(language_name(code) for code in b.languages)
        people = ", ".join(liaison_name(i) for i in b.liaisons)
        event.add("description", f"Booking {b.number}. Languages: {languages}. Liaisons: {people}.")
        cal.add_component(event)
    body: bytes = cal.to_ical()
    return body
