"""The route inbox: requests waiting to be routed, drained in batches by a few leased drainers.

One RQ job per request cost more than the routing itself in a surge (RQ's own bookkeeping
is ~15 Redis commands a job) and ran each phone-network call one after another. Instead a
request to route goes into a sorted set (oldest first; a request is in it at most once),
and at most `slots` drainer jobs at a time take batches from it and route them
concurrently (workers/dispatching.py).

Each drainer holds a lease, a key per slot with a TTL, renewed whenever it takes a batch.
Adding and taking are single scripts, so a wake-up is never lost: a drainer that finds the
inbox empty gives its lease back in the same step, and an add that finds a slot free starts
a new drainer. A drainer that dies loses its lease after `lease_ms`; what it had taken but
not routed is still QUEUED and the sweeper routes it (Dispatcher.review).
"""

from __future__ import annotations

import time

import redis

from dispatch import keys

# KEYS: inbox, slot 0 .. slot n-1; ARGV: request id, score, token, lease ms.
# Returns the slot whose lease this call took (start a drainer for it), or -1.
_ADD = """
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[3], 'NX', 'PX', ARGV[4]) then return i - 2 end
end
return -1
"""

# KEYS: inbox, this drainer's slot; ARGV: token, how many, lease ms.
# Returns the ids taken (oldest first); an empty list means the inbox was empty and the
# lease is given back; false means another drainer holds this slot now (stop).
_TAKE = """
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return false end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[2])
local ids = {}
for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
if #ids == 0 then redis.call('DEL', KEYS[2]) end
return ids
"""

# KEYS: inbox, slot 0 .. slot n-1; ARGV: token, lease ms, and optionally a slot to give
# back with the token that holds it. If requests are waiting, takes a free slot for `token`
# and returns it (start a drainer for it), else -1. A drainer handing over and the sweeper
# making sure a dead drainer is replaced both use it.
_RESUME = """
if ARGV[3] then
  local mine = KEYS[tonumber(ARGV[3]) + 2]
  if redis.call('GET', mine) == ARGV[4] then redis.call('DEL', mine) end
end
if redis.call('ZCARD', KEYS[1]) == 0 then return -1 end
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then return i - 2 end
end
return -1
"""


class RouteInbox:
    """Requests waiting to be routed, and the drainer slots' leases."""

    def __init__(self, r: redis.Redis, slots: int = 2, lease_seconds: float = 10.0):
        self.r = r
        self.slots = slots
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._slot_keys = [keys.route_drainer(i) for i in range(slots)]
        self._add = r.register_script(_ADD)
        self._take = r.register_script(_TAKE)
        self._resume = r.register_script(_RESUME)

    def add(self, request_id: str, token: str) -> int | None:
        """Queue `request_id` for routing; the slot to start a drainer on (leased to
        `token`), or None when every slot already has one."""
        slot = int(
            self._add(
                keys=[keys.ROUTE_INBOX, *self._slot_keys], args=[request_id, repr(time.time()), token, self.lease_ms]
            )
        )
        return slot if slot >= 0 else None

    def resume(self, token: str) -> int | None:
        """If requests are waiting and a slot is free (its drainer may have died), the slot
        leased to `token` for a new drainer; else None."""
        out = int(self._resume(keys=[keys.ROUTE_INBOX, *self._slot_keys], args=[token, self.lease_ms]))
        return out if out >= 0 else None

    def take(self, slot: int, token: str, count: int) -> list[str] | None:
        """Up to `count` waiting ids, oldest first, renewing this drainer's lease. [] when
        none are left (the lease is then given back); None when the slot is no longer ours."""
        got = self._take(keys=[keys.ROUTE_INBOX, self._slot_keys[slot]], args=[token, count, self.lease_ms])
        if got is None:
            return None
        return [i.decode() if isinstance(i, bytes) else str(i) for i in got]

    def hand_over(self, slot: int, token: str, successor: str) -> int | None:
        """Give the lease back; the slot leased to `successor` if requests still wait."""
        out = int(self._resume(keys=[keys.ROUTE_INBOX, *self._slot_keys], args=[successor, self.lease_ms, slot, token]))
        return out if out >= 0 else None

    def waiting(self) -> int:
        return int(self.r.zcard(keys.ROUTE_INBOX))

    def members(self) -> set[str]:
        return {m.decode() for m in self.r.zrange(keys.ROUTE_INBOX, 0, -1)}
