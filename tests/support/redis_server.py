"""A real Redis server for tests: the embedded one the launcher starts (launcher/embedded_redis.py),
or TEST_REDIS_URL if set."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

from launcher.embedded_redis import EmbeddedRedis
from launcher.ports import free_port

__all__ = ["RedisServer", "free_port", "start_redis"]


@dataclass
class RedisServer:
    url: str
    embedded: EmbeddedRedis | None = None

    @property
    def pid(self) -> int | None:
        """The embedded redis-server's pid (None for TEST_REDIS_URL)."""
        return self.embedded.pid if self.embedded is not None else None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def start_redis(
    appendonly: bool = False, port: int | None = None, dbdir: str | None = None, db: int = 0
) -> RedisServer:
    """Start an embedded redis-server on a loopback port (or use database `db` of
    TEST_REDIS_URL's server). With `appendonly`, every write is fsynced before it is
    acknowledged (a restart loses nothing)."""
    if os.environ.get("TEST_REDIS_URL"):
        url = urlsplit(os.environ["TEST_REDIS_URL"])
        return RedisServer(urlunsplit(url._replace(path=f"/{db}")))
    server = EmbeddedRedis(
        port or free_port(),
        Path(dbdir or tempfile.mkdtemp(prefix="ird-redis-")),
        appendonly=appendonly,
        fsync="always",
        dbfilename="test.rdb",
    )
    server.start()
    return RedisServer(server.url, server)
