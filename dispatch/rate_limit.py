"""Per-caller rate limit: one misbehaving phone cannot flood the queue.

A fixed window counter per (scope, number) in Redis: cheap, shared by every web
process, and self-expiring.
"""
from __future__ import annotations

import redis

from dispatch import clock, keys


def allow(r: redis.Redis, scope: str, who: str, limit: int, window: int) -> bool:
    """Count one event from `who`; False once it exceeds `limit` in the current window."""
    start = int(clock.now() // window) * window
    key = keys.rate(scope, who, start)
    pipe = r.pipeline()
    pipe.incr(key)
    pipe.expire(key, window + 1)
    count, _ = pipe.execute()
    return int(count) <= limit
