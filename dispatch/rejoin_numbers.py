"""Which request a dropped officer's number may rejoin, for the grace period, without keeping
the number: the key holds its keyed hash (dispatch.pseudonyms) and expires with the grace.

The first menu of every call asks whether its number may rejoin; `may_be_waiting` answers
"nobody anywhere" without a Redis round trip on most calls, from the latest grace end of any
drop (REJOIN_UNTIL), read at most every `gate_seconds`. A dropped officer takes longer than
that to call again.
"""

from __future__ import annotations

import math
import time

import redis

from dispatch import clock, keys

# KEYS: the number's key, REJOIN_UNTIL; ARGV: request id, grace end (epoch), ms to it.
_REMEMBER = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
if tonumber(ARGV[2]) > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 1
"""


def _float(value: bytes | str | None) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


class RejoinNumbers:
    def __init__(self, r: redis.Redis, gate_seconds: float) -> None:
        self.r = r
        self._remember = r.register_script(_REMEMBER)
        self._gate_seconds = gate_seconds
        self._gate_read_at = -math.inf
        self._gate_until = 0.0

    def remember(self, pseudonym: str, request_id: str, until: float) -> None:
        """The number with this pseudonym may rejoin `request_id` until `until` (epoch)."""
        remaining = until - clock.now()
        if remaining > 0:
            self._remember(
                keys=[keys.rejoin_number(pseudonym), keys.REJOIN_UNTIL],
                args=[request_id, repr(until), max(1, int(remaining * 1000))],
            )

    def request_for(self, pseudonym: str) -> str | None:
        """The request the number with this pseudonym may rejoin now, if any."""
        raw = self.r.get(keys.rejoin_number(pseudonym))
        return raw.decode() if isinstance(raw, bytes) else raw

    def may_be_waiting(self) -> bool:
        """False when no officer anywhere can be waiting to rejoin (the latest grace has ended)."""
        now = time.monotonic()
        if now - self._gate_read_at >= self._gate_seconds:
            self._gate_read_at = now
            try:
                raw = self.r.get(keys.REJOIN_UNTIL)
            except redis.RedisError:  # the menu works without Redis: no rejoin offer meanwhile
                raw = None
            self._gate_until = _float(raw)
        return clock.now() < self._gate_until
