"""Which worker processes are alive: each beats every few tenths of a second; /healthz and the
launcher count those that beat recently."""

from __future__ import annotations

import time

import redis

from dispatch import keys


class Heartbeats:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r

    def beat(self, name: str, now: float | None = None) -> None:
        self.r.zadd(keys.WORKER_HEARTBEAT, {name: time.time() if now is None else now})

    def leave(self, name: str) -> None:
        """A worker stopping: no longer counted."""
        self.r.zrem(keys.WORKER_HEARTBEAT, name)

    def alive(self, within: float) -> int:
        """How many workers beat within the last `within` seconds."""
        return int(self.r.zcount(keys.WORKER_HEARTBEAT, time.time() - within, "+inf"))
