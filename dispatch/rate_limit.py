"""Per-caller rate limit: one misbehaving phone cannot flood the queue.

A fixed window counter per (scope, caller) in Redis: cheap, shared by every web
process, and self-expiring. The caller is named by `Pseudonyms.of(number)`, never by the
number itself: a stranger's number must not be written to Redis (dispatch.pseudonyms).
"""

from __future__ import annotations

import redis

from dispatch import clock, keys


def allow(r: redis.Redis, scope: str, who: str, limit: int, window: int) -> bool:
    """Count one event from `who` (a pseudonym); False once it exceeds `limit` in the current window."""
    start = int(clock.now() // window) * window
    key = keys.rate(scope, who, start)
    pipe = r.pipeline()
    pipe.incr(key)
    pipe.expire(key, window + 1)
    count, _ = pipe.execute()
    return int(count) <= limit
