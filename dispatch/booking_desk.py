"""The rules of a booking: what may be booked, cancelled or dropped, and the reminders.

A sergeant books liaisons for an event; the booking is refused, with the reason a sergeant
can act on, when it overlaps another booking of one of them, names a liaison who speaks
none of the languages needed (or leaves a needed language without a speaker), or a
liaison who is not on duty then by the roster's schedule. Liaisons get a text the day
before and an hour before; `CANCEL <booking no.>` drops them out. Every change, and every
refusal, is in the audit log; each booked liaison's dashboard row is told at once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from dispatch import clock, events
from dispatch.audit_live import audit_live
from dispatch.bookings import MAX_EVENT_SECONDS, Booking, BookingStore
from dispatch.context import Service
from dispatch.roster import Liaison
from dispatch.sms.to_liaisons import clock_time, local, text_liaison

log = logging.getLogger("dispatch.bookings")

DAY, HOUR = 24 * 3600, 3600
DUTY_STEP = 5 * 60  # the event is checked against the duty schedule this often
TITLE_MAX, PLACE_MAX = 80, 160
KEEP_ENDED = 31 * DAY  # ended bookings stay in the feeds this long
REMINDERS = (("day", DAY), ("hour", HOUR))
_CANCEL = re.compile(r"^\s*CANCEL\s+(?:BOOKING\s+)?(?:NO\.?\s*)?#?B?(\d{1,9})\s*\.?\s*$", re.IGNORECASE)


class BookingRefused(ValueError):
    """The booking breaks a rule; the message says which, for the sergeant."""


@dataclass(frozen=True)
class Draft:
    title: str
    place: str
    start: float
    end: float
    languages: tuple[str, ...]
    liaisons: tuple[str, ...]


@dataclass(eq=False)
class BookingDesk(Service):
    @property
    def bookings(self) -> BookingStore:
        return BookingStore(self.ctx.redis)

    def book(self, draft: Draft, who: str) -> Booking:
        """Store the booking, or raise BookingRefused; audited either way."""
        try:
            self._check(draft)
        except BookingRefused as exc:
            audit_live(self.ctx, who, "booking_create", draft.title[:TITLE_MAX], f"refused: {exc}")
            raise
        booking = self.bookings.add(
            Booking(
                "",
                draft.title.strip(),
                draft.place.strip(),
                float(int(draft.start)),  # whole seconds, as a calendar keeps them
                float(int(draft.end)),
                draft.languages,
                draft.liaisons,
                created_at=clock.now(),
                created_by=who,
            )
        )
        audit_live(self.ctx, who, "booking_create", f"booking {booking.number}", "done: " + self.describe(booking))
        self._tell_rows(booking.liaisons, booking.number)
        log.info("booking %s made by %s for %s", booking.number, who, ", ".join(booking.liaisons))
        return booking

    def cancel(self, number: str, who: str) -> Booking | None:
        """A sergeant cancels a booking; None when there is no such booking still on."""
        done = self.bookings.update(number, lambda b: None if b.cancelled else replace(b, cancelled=True))
        audit_live(self.ctx, who, "booking_cancel", f"booking {number}", "done" if done else "refused: no such booking")
        if done:
            self._tell_rows(done.liaisons, number)
        return done

    def drop_out(self, liaison: Liaison, number: str) -> str:
        """A liaison's `CANCEL <no.>`: the reply to send them."""

        def drop(b: Booking) -> Booking | None:
            if b.cancelled or liaison.id not in b.liaisons:
                return None
            kept = tuple(i for i in b.liaisons if i != liaison.id)
            return replace(b, liaisons=kept, dropped=(*b.dropped, liaison.id))

        done = self.bookings.update(number, drop)
        if done is None:
            audit_live(self.ctx, liaison.id, "booking_drop_out", f"booking {number}", "refused: not booked")
            return f"You are not booked for booking {number}. Text STATUS for your duty."
        # One message tells every open page: the audit list, and the liaison's row.
        audit_live(self.ctx, liaison.id, "booking_drop_out", f"booking {number}", "done: by text", liaison.id)
        return f"You are out of booking {number} ({done.title}). The sergeants have been told."

    @staticmethod
    def cancel_text(text: str) -> str | None:
        """The booking number of a liaison's `CANCEL 7` (or `CANCEL B7`), else None."""
        found = _CANCEL.match(text or "")
        return str(int(found.group(1))) if found else None

    def upcoming(self, days: int = 14, now: float | None = None) -> list[Booking]:
        """Bookings still on that end from now and start before the end of the day `days` on."""
        now = clock.now() if now is None else now
        horizon = now + days * DAY
        found = [b for b in self.bookings.ending_after(now) if not b.cancelled and b.start < horizon]
        return sorted(found, key=lambda b: (b.start, int(b.number)))

    def describe(self, b: Booking) -> str:
        """'Corona community base, Tue Dec 3 6:30 PM-8:30 PM' (no place: it may reach a phone)."""
        start = local(self.ctx, b.start)
        return f"{b.title}, {start:%a %b} {start.day} {clock_time(self.ctx, b.start)}-{clock_time(self.ctx, b.end)}"

    def send_reminders(self, now: float | None = None) -> int:
        """Text each booked liaison the day before and an hour before, once each (any worker
        may run this; the first to claim a reminder sends it). A reminder whose time came
        before the booking was made is not sent; the hour's replaces a late day's."""
        now = clock.now() if now is None else now
        sent = 0
        for b in self.bookings.ending_after(now):
            if b.cancelled or b.start <= now:
                continue
            for i, (what, ahead) in enumerate(REMINDERS):
                at = b.start - ahead
                sooner = REMINDERS[i + 1][1] if i + 1 < len(REMINDERS) else 0
                if not (at <= now < b.start - sooner) or b.created_at > at:
                    continue
                for liaison_id in b.liaisons:
                    if self.bookings.mark_reminded(b.number, f"{what}:{liaison_id}", int(b.end - now) + DAY):
                        text_liaison(self.ctx, liaison_id, self._reminder(b))
                        sent += 1
        self.bookings.forget_ended(now - KEEP_ENDED)
        return sent

    def _reminder(self, b: Booking) -> str:
        return f"Reminder: booking {b.number}, {self.describe(b)}. Reply CANCEL {b.number} if you cannot go."

    def _check(self, d: Draft) -> None:
        roster, catalog = self.ctx.roster, self.ctx.catalog
        if not d.title.strip():
            raise BookingRefused("the event needs a title")
        if len(d.title) > TITLE_MAX or len(d.place) > PLACE_MAX:
            raise BookingRefused(f"keep the title within {TITLE_MAX} and the place within {PLACE_MAX} characters")
        if d.end <= d.start:
            raise BookingRefused("the event must end after it starts")
        if d.end - d.start > MAX_EVENT_SECONDS:
            raise BookingRefused(f"an event may last at most {MAX_EVENT_SECONDS // HOUR} hours")
        if d.end <= clock.now():
            raise BookingRefused("the event is over already")
        if not d.liaisons:
            raise BookingRefused("book at least one liaison")
        if not d.languages:
            raise BookingRefused("name at least one language needed")
        unknown = [code for code in d.languages if catalog.get(code) is None]
        if unknown:
            raise BookingRefused(f"unknown language {unknown[0]}")
        people = [roster.liaison(i) for i in d.liaisons]
        if any(p is None for p in people):
            raise BookingRefused("no such liaison")
        names = {code: catalog.get(code).name for code in d.languages}  # type: ignore[union-attr]
        for person in people:
            assert person is not None
            if not set(person.languages) & set(d.languages):
                raise BookingRefused(f"{person.name} does not speak {' or '.join(names.values())}")
            step = d.start
            while step < d.end:
                if not person.on_duty_at(clock.utc_datetime(step)):
                    raise BookingRefused(
                        f"{person.name} is not on duty at {clock_time(self.ctx, step)} ({person.duty})"
                    )
                step += DUTY_STEP
            if not person.on_duty_at(clock.utc_datetime(d.end - 1)):
                raise BookingRefused(
                    f"{person.name} is not on duty until {clock_time(self.ctx, d.end)} ({person.duty})"
                )
        for code in d.languages:
            if not any(code in p.languages for p in people if p is not None):
                raise BookingRefused(f"none of the liaisons booked speaks {names[code]}")
        for other in self.bookings.ending_after(d.start):
            if other.cancelled or other.start >= d.end:
                continue
            both = [p for p in people if p is not None and p.id in other.liaisons]
            if both:
                raise BookingRefused(f"{both[0].name} is booked then: booking {other.number}, {self.describe(other)}")

    def _tell_rows(self, liaison_ids: Iterable[str], number: str) -> None:
        """Each booked liaison's dashboard row is shaped again (the stream follows liaison events)."""
        for liaison_id in liaison_ids:
            events.publish(self.ctx.redis, "liaison_booking", {"liaison": liaison_id, "booking": number})
