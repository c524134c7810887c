"""Connect to Redis by URL or through Sentinel, with short timeouts.

Short timeouts matter: when Redis is down, a webhook must notice in well under a
second and fall back to a direct vendor dial instead of leaving an officer in silence.
The sentinels themselves get the same short connect timeout: a sentinel host that is
gone must cost half a second, not the kernel's TCP connect timeout (minutes).

Through Sentinel every new connection asks the sentinels for the master's address, so
after a failover the clients (RQ's included) find the promoted replica by themselves;
a connection still open to a demoted master gets READONLY, which redis-py turns into a
reconnect.
"""

from __future__ import annotations

import redis
from redis.sentinel import Sentinel

CONNECT_TIMEOUT = 0.5
SOCKET_TIMEOUT = 1.0
# Replies that mean "no master to take writes right now", not a bug in the command: the
# master refuses writes while no replica is in sync (min-replicas-to-write), a demoted
# master is read-only, a replica is loading its data.
WRITES_REFUSED = ("NOREPLICAS", "READONLY", "MASTERDOWN", "LOADING")


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
        sentinel = Sentinel(
            list(sentinels), sentinel_kwargs=dict(socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=SOCKET_TIMEOUT)
        )
        return sentinel.master_for(master, **options)
    return redis.Redis.from_url(url, **options)


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says Redis cannot take our commands for now (down, failing over, or
    refusing writes until a replica is in sync) rather than that a command was wrong."""
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return True
    if not isinstance(exc, redis.ResponseError):
        return False
    reply = str(exc).rpartition("caused error: ")[2]  # a pipeline names the command first
    return reply.startswith(WRITES_REFUSED)
