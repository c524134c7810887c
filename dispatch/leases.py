"""Work that one process at a time may do, across every worker sharing the Redis: a periodic
job's run for one period, a reconciler pass. A lease is a key with a TTL, so a holder that
dies lets the next one in after the TTL at most."""

from __future__ import annotations

import redis

from dispatch import keys

# KEYS: the lease; ARGV: its holder. Deleted only by the holder (it may have expired and been
# taken by another meanwhile).
_GIVE_BACK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class Leases:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r
        self._give_back = r.register_script(_GIVE_BACK)

    def take(self, name: str, holder: str, seconds: int) -> bool:
        """True when `holder` now holds lease `name` (for `seconds` at most)."""
        return bool(self.r.set(keys.lease(name), holder, nx=True, ex=seconds))

    def give_back(self, name: str, holder: str) -> None:
        self._give_back(keys=[keys.lease(name)], args=[holder])

    def claim_period(self, task: str, slot: int, holder: str, seconds: int) -> bool:
        """True for the one process that runs periodic `task` in period `slot` (epoch // period)."""
        return bool(self.r.set(keys.periodic(task, slot), holder, nx=True, ex=seconds))
