"""Unit PIN entry with a failure budget per precinct, shared by every caller.

A precinct's PIN is a short secret keyed on a phone, and a stranger may redial from as
many numbers as they like, so neither a per-call nor a per-number limit stops guessing.
Wrong PINs are therefore counted per precinct, whoever keys them: once
`pin_failures_per_hour` have been keyed within an hour, PIN entry for that precinct is
refused for `pin_lockout_seconds` — a correct PIN as much as a wrong one, so the answer
says nothing about the PIN — and the sergeants see an alert. The precinct's own lines and
its supervisors' cells are recognised by number and never key a PIN, so they are not
affected. The price is that anyone can close PIN entry for a precinct for the cool-down
by keying wrong PINs on purpose; the alert tells the sergeants it happened.

Nothing here stores a phone number or the digits keyed: the failures are random tokens
with a time. If Redis cannot be reached the PIN is still compared (an officer on a
borrowed phone must still get through; the call then goes to the vendor directly, as in
any Redis outage), but nothing is counted.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis

from config.roster import Roster
from dispatch import clock, events, keys

log = logging.getLogger("dispatch.pin_guard")

WINDOW = 3600.0  # the budget is per hour (PIN_FAILURES_PER_HOUR)
EVENT = "pin_locked"

# KEYS: failures zset, lock; ARGV: now, window, budget, until, lockout ms, member.
# Returns {-1, until} if PIN entry was already locked (the failure is not counted), else
# {failures in the window, until if this failure spent the budget, else ''}. Spending the
# budget clears the failures, so a fresh budget starts when the cool-down ends.
_FAILURE = """
local locked = redis.call('GET', KEYS[2])
if locked then return {-1, locked} end
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[6])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
  redis.call('DEL', KEYS[1])
  return {n, ARGV[4]}
end
return {n, ''}
"""


@dataclass(frozen=True)
class PinCheck:
    """The answer to one PIN entry."""

    accepted: bool
    locked_until: float | None = None  # PIN entry for the precinct is refused until then
    failures: int = 0  # wrong PINs within the hour, this one included
    counted: bool = False  # the failure reached the budget (False: not a failure, or no Redis)


@dataclass(frozen=True)
class PinLock:
    """PIN entry for one precinct refused until `until`: what the sergeants are shown."""

    precinct: str
    precinct_name: str
    until: float
    failures: int
    timezone: str

    def as_alert(self) -> dict[str, Any]:
        local = datetime.fromtimestamp(self.until, ZoneInfo(self.timezone))
        return {
            "id": f"pin-lock:{self.precinct}",
            "kind": EVENT,
            "precinct": self.precinct,
            "precinct_name": self.precinct_name,
            "until": self.until,
            "until_iso": clock.iso(self.until),
            "failures": self.failures,
            "text": (
                f"PIN entry for {self.precinct_name} is locked until {local:%H:%M} after {self.failures} "
                "wrong PINs within an hour. Callers on unregistered phones are told to call the desk "
                "sergeant; the precinct's lines and supervisors' cells are not affected."
            ),
        }


class PinGuard:
    """Checks unit PINs against the roster within each precinct's failure budget."""

    def __init__(
        self, r: redis.Redis, roster: Roster, failures_per_hour: int, lockout_seconds: float, events_maxlen: int = 10000
    ) -> None:
        self.r = r
        self.roster = roster
        self.budget = failures_per_hour
        self.lockout = lockout_seconds
        self.maxlen = events_maxlen
        self._failure = r.register_script(_FAILURE)

    def locked_until(self, precinct_id: str) -> float | None:
        """When PIN entry for the precinct opens again; None if it is open (or Redis is down)."""
        try:
            raw = self.r.get(keys.pin_lock(precinct_id))
        except redis.RedisError as exc:
            log.warning("PIN lock of precinct %s unknown (%s); PIN entry left open", precinct_id, type(exc).__name__)
            return None
        return float(raw) if raw else None

    def check(self, precinct_id: str, entered: str) -> PinCheck:
        """Compare `entered` with the precinct's PIN, unless PIN entry for it is locked; count a
        wrong one against the budget (an empty entry, a timeout, is no guess and not counted)."""
        precinct = self.roster.precinct(precinct_id)
        if precinct is None:
            return PinCheck(False)
        until = self.locked_until(precinct_id)
        if until is not None:
            return PinCheck(False, locked_until=until)
        if hmac.compare_digest(entered.encode(), precinct.pin.encode()):
            return PinCheck(True)
        if not entered:
            return PinCheck(False)
        now = clock.now()
        try:
            failures, locked = self._failure(
                keys=[keys.pin_failures(precinct_id), keys.pin_lock(precinct_id)],
                args=[
                    repr(now),
                    WINDOW,
                    self.budget,
                    repr(now + self.lockout),
                    max(1, round(self.lockout * 1000)),
                    secrets.token_hex(8),
                ],
            )
        except redis.RedisError as exc:
            log.warning("wrong PIN for precinct %s not counted (%s)", precinct_id, type(exc).__name__)
            return PinCheck(False)
        failures = int(failures)
        if failures < 0:
            return PinCheck(False, locked_until=float(locked))
        if not locked:
            return PinCheck(False, failures=failures, counted=True)
        lock = PinLock(precinct_id, precinct.name, float(locked), failures, self.roster.timezone)
        log.warning(
            "PIN entry for precinct %s locked until %s: %d wrong PINs within an hour",
            precinct_id,
            clock.iso(lock.until),
            failures,
        )
        try:
            events.publish(self.r, EVENT, lock.as_alert(), maxlen=self.maxlen)
        except redis.RedisError as exc:
            log.warning("PIN lock alert for precinct %s not published (%s)", precinct_id, type(exc).__name__)
        return PinCheck(False, locked_until=lock.until, failures=failures, counted=True)

    def locks(self) -> list[PinLock]:
        """Every precinct whose PIN entry is locked now, by precinct id (one read)."""
        ids = [p.id for p in self.roster.precincts]
        if not ids:
            return []
        values = self.r.mget([keys.pin_lock(i) for i in ids])
        return [
            PinLock(p.id, p.name, float(v), self.budget, self.roster.timezone)
            for p, v in zip(self.roster.precincts, values)
            if v
        ]
