"""Deliveries handled once: a webhook Twilio delivers again, a job that runs twice.

A delivery is named by its kind and a token (a MessageSid, a CallSid, a request id). The
first to `claim` it does the work and `settle`s it with what it produced; a concurrent
redelivery waits for that (`outcome`) and answers the same, so nothing is done twice. The
marks expire after the request's retention (or the ttl given).
"""

from __future__ import annotations

import time

import redis

from dispatch import keys

PENDING = b"\x00pending"  # a claim whose work is still under way


class Deliveries:
    def __init__(self, r: redis.Redis, ttl: int) -> None:
        self.r = r
        self.ttl = ttl

    def first(self, kind: str, token: str, ttl: int | None = None) -> bool:
        """True for the first delivery of (kind, token) only."""
        return bool(self.r.set(keys.once(kind, token), "1", nx=True, ex=ttl or self.ttl))

    def claim(self, kind: str, token: str, ttl: int | None = None) -> bool:
        """True when this delivery is the first and must do the work (then `settle` it)."""
        return bool(self.r.set(keys.once(kind, token), PENDING, nx=True, ex=ttl or self.ttl))

    def settle(self, kind: str, token: str, result: str, ttl: int | None = None) -> None:
        """What the first delivery produced, for every redelivery."""
        self.r.set(keys.once(kind, token), result.encode(), ex=ttl or self.ttl)

    def release(self, kind: str, token: str) -> None:
        """The first delivery failed: a redelivery may do the work."""
        self.r.delete(keys.once(kind, token))

    def outcome(self, kind: str, token: str, wait: float) -> str | None:
        """What the first delivery produced, waiting up to `wait` seconds while it works;
        None if it failed (released) or is still working at the end of the wait."""
        deadline = time.monotonic() + wait
        while True:
            value = self.r.get(keys.once(kind, token))
            if value is None:
                return None
            if value != PENDING:
                return value.decode() if isinstance(value, bytes) else str(value)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
