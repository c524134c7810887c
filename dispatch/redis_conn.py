"""Connect to Redis by URL or through Sentinel, with short timeouts.

Short timeouts matter: when Redis is down, a webhook must notice in well under a
second and fall back to a direct vendor dial instead of leaving an officer in silence.
"""

from __future__ import annotations

import redis
from redis.sentinel import Sentinel

CONNECT_TIMEOUT = 0.5
SOCKET_TIMEOUT = 1.0


def connect(
    url: str,
    sentinels: tuple[tuple[str, int], ...] = (),
    master: str = "mymaster",
    socket_timeout: float | None = SOCKET_TIMEOUT,
) -> redis.Redis:
    """A client for `url`, or for the Sentinel-elected master when sentinels are given.

    `socket_timeout=None` is for blocking reads (RQ's BLPOP, XREAD BLOCK) that must
    outlast the short timeout request handlers use.
    """
    options = dict(
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=socket_timeout,
        health_check_interval=15,
        retry_on_timeout=False,
    )
    if sentinels:
        sentinel = Sentinel(list(sentinels), socket_timeout=SOCKET_TIMEOUT)
        return sentinel.master_for(master, **options)
    return redis.Redis.from_url(url, **options)
