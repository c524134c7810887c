"""Bookings: liaisons' time at community meetings, forums and presentations, on Redis.

One JSON value per booking in a hash (bookings are a handful a week), and sorted sets by end
time (what is still to come: one range read) and by start time (what may hold a liaison now:
one range read that finds nothing on almost every routing decision). The rules a booking must
keep are booking_desk.py's; this module only stores and finds them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import redis

from dispatch import keys
from dispatch.redis_replies import texts

MAX_EVENT_SECONDS = 16 * 3600  # an event longer than this is a typo in a date (the desk refuses it)


@dataclass(frozen=True)
class Booking:
    number: str
    title: str
    place: str  # free text, for sergeants only: never in a text, a feed or a liaison's row
    start: float
    end: float
    languages: tuple[str, ...]
    liaisons: tuple[str, ...]  # booked and not dropped out
    dropped: tuple[str, ...] = ()  # dropped out by text (CANCEL <no.>)
    created_at: float = 0.0
    created_by: str = ""
    cancelled: bool = False

    def blocks(self, now: float, buffer: float) -> bool:
        """Whether the event with its travel time either side covers `now`."""
        return not self.cancelled and self.start - buffer <= now < self.end + buffer

    def as_dict(self, with_place: bool) -> dict[str, object]:
        out = asdict(self)
        if not with_place:
            out.pop("place")
        return out

    @classmethod
    def from_json(cls, raw: bytes | str) -> Booking:
        data = json.loads(raw)
        for name in ("languages", "liaisons", "dropped"):
            data[name] = tuple(data.get(name) or ())
        return cls(**data)


class BookingStore:
    def __init__(self, r: redis.Redis):
        self.r = r

    def add(self, booking: Booking) -> Booking:
        """Store a new booking under the next number (the number given is ignored)."""
        saved = replace(booking, number=str(self.r.incr(keys.BOOKING_SEQ)))
        self._write(saved)
        return saved

    def get(self, number: str) -> Booking | None:
        raw = self.r.hget(keys.BOOKINGS, number)
        return Booking.from_json(raw) if raw else None

    def update(self, number: str, change: Callable[[Booking], Booking | None]) -> Booking | None:
        """Apply `change` to the stored booking atomically (WATCH, again if another write came
        between); None if there is none, or `change` returned None (nothing to do)."""
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(keys.BOOKINGS)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
                    raw = pipe.hget(keys.BOOKINGS, number)
                    changed = change(Booking.from_json(raw)) if raw else None
                    if changed is None:
                        return None
                    pipe.multi()
                    self._write(changed, pipe)
                    pipe.execute()
                    return changed
                except redis.WatchError:
                    continue

    def ending_after(self, since: float) -> list[Booking]:
        """Bookings (cancelled ones too) that end after `since`, by end time."""
        numbers = texts(self.r.zrangebyscore(keys.BOOKINGS_BY_END, f"({since}", "+inf"))
        if not numbers:
            return []
        found = self.r.hmget(keys.BOOKINGS, numbers)
        return [Booking.from_json(raw) for raw in found if raw]

    def holding_around(self, now: float, buffer: float) -> list[Booking]:
        """Bookings that may hold someone at `now` with `buffer` either side (cancelled ones too):
        those starting from MAX_EVENT_SECONDS before that until `buffer` after `now`."""
        numbers = texts(self.r.zrangebyscore(keys.BOOKINGS_BY_START, now - buffer - MAX_EVENT_SECONDS, now + buffer))
        if not numbers:
            return []
        found = self.r.hmget(keys.BOOKINGS, numbers)
        return [Booking.from_json(raw) for raw in found if raw]

    def forget_ended(self, before: float) -> int:
        """Drop bookings that ended before `before` (kept for the feeds until then)."""
        old = texts(self.r.zrangebyscore(keys.BOOKINGS_BY_END, "-inf", f"({before}"))
        if not old:
            return 0
        pipe = self.r.pipeline()
        pipe.zrem(keys.BOOKINGS_BY_END, *old)
        pipe.zrem(keys.BOOKINGS_BY_START, *old)
        pipe.hdel(keys.BOOKINGS, *old)
        for number in old:
            pipe.delete(keys.booking_reminded(number))
        pipe.execute()
        return len(old)

    def mark_reminded(self, number: str, what: str, ttl: int) -> bool:
        """Claim one reminder (e.g. "hour:l-garcia") once across every worker; whether it was ours."""
        key = keys.booking_reminded(number)
        pipe = self.r.pipeline()
        pipe.sadd(key, what)
        pipe.expire(key, ttl)
        added, _ = pipe.execute()
        return bool(added)

    def _write(self, booking: Booking, pipe: redis.client.Pipeline | None = None) -> None:
        target = pipe if pipe is not None else self.r.pipeline()
        target.hset(keys.BOOKINGS, booking.number, json.dumps(asdict(booking)))
        target.zadd(keys.BOOKINGS_BY_END, {booking.number: booking.end})
        target.zadd(keys.BOOKINGS_BY_START, {booking.number: booking.start})
        if pipe is None:
            target.execute()
