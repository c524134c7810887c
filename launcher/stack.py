"""The stack: the embedded Redis, the Procfile's gunicorn processes, RQ workers and the phone
simulator, started in that order on loopback and stopped in the reverse one within a bound.

`make run` (scripts/run_local.py), the benchmarks (bench/_stack.py) and the end-to-end tests
(tests/support/stack.py) all start it here; they differ only in ports (fixed, or free ones),
where output goes and which parts they want (the tests serve the app from their own process).

    stack = Stack(env, Ports.free(), redis_dir=tmp)   # or Ports.from_env(os.environ)
    stack.start()          # everything, or nothing: a failed start stops what it had started
    ...
    stack.stop()           # simulator first, then web and workers, Redis last; SIGKILL at the bound
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

import redis as redis_py
import requests

from adapters.redis_connection import connect
from config.settings import Settings
from dispatch.heartbeats import Heartbeats
from dispatch.roster import Roster
from launcher import procfile
from launcher.embedded_redis import EmbeddedRedis
from launcher.ports import HOST, check_free, free_ports
from launcher.processes import Child, Processes

SERVED = ("web", "callbacks", "dashboard")  # the Procfile's gunicorn processes, each on a port of its own
START_TIMEOUT = 60.0  # gunicorn loads the app in each worker: slow on a busy 2-CPU machine
STOP_SECONDS = 8.0  # everything gone within this (then SIGKILL): `make run` promises 10 s
SIMULATOR_SHARE = 2.0  # of which the simulator, stopped first, gets at most this ...
REDIS_SHARE = 1.5  # ... and Redis, stopped last, at least this (to flush its append-only file)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `Settings.from_env()` in a child equal `settings`."""
    env: dict[str, str] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, tuple):
            if value:
                env[f.name.upper()] = ",".join(f"{h}:{p}" for h, p in value)
            continue
        env[f.name.upper()] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return env


@dataclass(frozen=True)
class Ports:
    """The stack's loopback ports, and the variables `make run` reads them from."""

    web: int
    callbacks: int
    dashboard: int
    sim: int
    redis: int

    VARIABLES: ClassVar[dict[str, str]] = {
        "web": "PORT",
        "dashboard": "DASHBOARD_PORT",
        "callbacks": "CALLBACKS_PORT",
        "sim": "SIM_PORT",
        "redis": "LOCAL_REDIS_PORT",
    }
    DEFAULTS: ClassVar[dict[str, int]] = {"web": 8000, "dashboard": 8001, "callbacks": 8002, "sim": 8091, "redis": 6390}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        """`make run`'s ports: the variables if set, else the defaults (ValueError naming a bad one)."""
        values = {}
        for name, variable in cls.VARIABLES.items():
            text = env.get(variable) or str(cls.DEFAULTS[name])
            if not text.isdigit() or not 0 < int(text) < 65536:
                raise ValueError(f"{variable}={text!r}: not a port number (1-65535)")
            values[name] = int(text)
        return cls(**values)

    @classmethod
    def free(cls) -> Ports:
        """Ports the kernel hands out now (tests, benchmarks)."""
        return cls(**dict(zip(cls.VARIABLES, free_ports(len(cls.VARIABLES)), strict=True)))

    def url(self, name: str) -> str:
        return f"http://{HOST}:{getattr(self, name)}"

    def check(self, names: Sequence[str]) -> None:
        """PortInUse naming every taken port among `names` and the variable that moves it."""
        check_free({self.VARIABLES[n]: getattr(self, n) for n in names})


class Interrupted(Exception):
    """A stop was asked for (Ctrl-C) while the stack was starting."""


class Stack:
    """The service's processes on this machine.

    `env`: every process's environment (REDIS_URL is set here when `redis_dir` is given: an
    embedded Redis on `ports.redis` keeping its files there). `served`: which of the
    Procfile's gunicorn processes to start, on their ports; `workers`: how many RQ workers;
    `simulator`: the module to run as the phone network (`simulator`, or the benchmarks'
    recorder) with `simulator_args`, or None. `output`: None (this terminal),
    subprocess.DEVNULL, or a directory for one log file per process. `interrupt`: set it
    (from a signal handler) to abandon a start; `announce` hears what was started.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        ports: Ports,
        *,
        redis_dir: Path | None = None,
        redis_snapshots: bool = True,
        served: Sequence[str] = SERVED,
        workers: int = 2,
        simulator: str | None = None,
        simulator_args: Sequence[str] = (),
        output: Path | int | None = None,
        log_level: str = "warning",
        interrupt: threading.Event | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.ports = ports
        self.env = dict(env)
        self.embedded = (
            EmbeddedRedis(ports.redis, redis_dir, snapshots=redis_snapshots, dbfilename="dispatch.rdb")
            if redis_dir
            else None
        )
        if self.embedded is not None:
            self.env["REDIS_URL"] = self.embedded.url
        self.settings = Settings.from_env(self.env)  # a bad environment fails here, with the reason
        self.served = tuple(served)
        self.n_workers = workers
        self.simulator = simulator
        self.simulator_args = tuple(simulator_args)
        self.output = output
        self.log_level = log_level
        self.interrupt = interrupt or threading.Event()
        self.announce = announce or (lambda text: None)
        self.procs = Processes()
        self._redis: redis_py.Redis | None = None

    # ------------------------------------------------------------------ the whole
    def start(self) -> Stack:
        """Start every part and wait until each answers; on any failure (a port taken, a process
        that died, a timeout, an interrupt) stop whatever had started, then raise."""
        try:
            if self.interrupt.is_set():
                raise Interrupted("interrupted before the start")
            self.ports.check(
                [*(["redis"] if self.embedded else []), *self.served, *(["sim"] if self.simulator else [])]
            )
            if self.embedded is not None:
                self.embedded.start(self.procs)
                self.announce(
                    f"started Redis: pid {self.embedded.pid} (embedded, append-only, "
                    f"files in {self.embedded.directory})"
                )
            urls = [self.serve(kind) for kind in self.served]
            started = [self.start_worker() for _ in range(self.n_workers)]
            for url in urls:
                self.wait_http(url + "/healthz")
            if started:
                self.wait_workers(len(started), among=started)
            if self.simulator:
                self.start_simulator()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, within: float = STOP_SECONDS, hurry: threading.Event | None = None) -> None:
        """Stop everything within `within` seconds: the phone simulator first (so no call posts
        a callback to a process that is gone), then web and workers, Redis last. `hurry`
        (a second Ctrl-C) cuts the graceful waits short."""
        t0 = time.monotonic()
        end = t0 + within
        self.procs.stop(["simulator"], deadline=min(end, t0 + SIMULATOR_SHARE), hurry=hurry)
        rest = sorted({c.name for c in self.procs.named() if c.name != "redis"})
        self.procs.stop(rest, deadline=end - REDIS_SHARE, hurry=hurry)
        self.procs.stop(None, deadline=end)
        if self._redis is not None:
            self._redis.close()
            self._redis = None

    def exited(self) -> list[Child]:
        """Processes that ended on their own (not asked to stop)."""
        return self.procs.exited()

    # ------------------------------------------------------------------ the parts
    def _output(self, name: str) -> Path | int | None:
        if isinstance(self.output, Path):
            self.output.mkdir(parents=True, exist_ok=True)
            return self.output / f"{name.replace(' ', '-')}.log"
        return self.output

    def serve(
        self,
        kind: str,
        port: int | None = None,
        name: str | None = None,
        app: str | None = None,
        extra_args: Sequence[str] = (),
    ) -> str:
        """The Procfile's gunicorn process `kind` (its settings, its environment) on loopback
        `port` (the kind's own by default); `app` replaces `wsgi:app`. Returns its URL."""
        port = port or getattr(self.ports, kind)
        assigned, argv = procfile.process(kind, self.env, bind=f"{HOST}:{port}", log_level=self.log_level)
        argv = [*argv[:-1], *extra_args, app or argv[-1]]
        name = name or kind
        proc = self.procs.spawn(name, argv, {**self.env, **assigned}, self._output(name))
        self.announce(f"started {name}: pid {proc.pid}")
        return f"http://{HOST}:{port}"

    def start_worker(self, env: Mapping[str, str] | None = None) -> subprocess.Popen:
        """One more RQ worker (the Procfile's `worker`); returns its Popen."""
        env = dict(env or self.env)
        assigned, argv = procfile.process("worker", env)
        name = f"worker {len(self.procs.named('worker')) + 1}"
        proc = self.procs.spawn(name, argv, {**env, **assigned}, self._output(name))
        self.announce(f"started {name}: pid {proc.pid}")
        return proc

    def start_simulator(self) -> str:
        """The phone network (`self.simulator`, a module run with python -m) on its port."""
        s = self.settings
        argv = [
            sys.executable,
            "-m",
            self.simulator or "simulator",
            "--port",
            str(self.ports.sim),
            "--app-url",
            s.public_base_url,
            "--account-sid",
            s.twilio_account_sid,
            "--auth-token",
            s.twilio_auth_token,
            "--number",
            self.roster().service_number,
            *self.simulator_args,
        ]
        proc = self.procs.spawn("simulator", argv, self.env, self._output("simulator"))
        self.announce(f"started phone simulator: pid {proc.pid}")
        url = self.ports.url("sim")
        self.wait_http(url + "/sim/calls")
        return url

    # ------------------------------------------------------------------ waiting
    def _waiting(
        self, what: str, deadline: float, timeout: float, among: Sequence[subprocess.Popen] | None = None
    ) -> None:
        """Between polls: raise if a stop was asked for, a process (of `among`, if given) died,
        or time ran out."""
        if self.interrupt.is_set():
            raise Interrupted(f"interrupted while waiting for {what}")
        self.procs.check_alive(among)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")

    def wait_http(self, url: str, timeout: float = START_TIMEOUT) -> None:
        """Until `url` answers at all (any status), while every process is still alive."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(url, timeout=1)
                return
            except requests.RequestException:
                pass
            self._waiting(url, deadline, timeout)
            time.sleep(0.1)

    def wait_workers(
        self, n: int, among: Sequence[subprocess.Popen] | None = None, timeout: float = START_TIMEOUT
    ) -> None:
        """Until `n` workers beat their heart in Redis (failing early if one of `among`, by
        default any process, dies)."""
        heartbeats = Heartbeats(self.redis)
        deadline = time.monotonic() + timeout
        while heartbeats.alive(within=5) < n:
            self._waiting(f"{n} workers", deadline, timeout, among)
            time.sleep(0.1)

    # ------------------------------------------------------------------ helpers
    @property
    def redis(self) -> redis_py.Redis:
        """The stack's Redis, found as the service finds it (through Sentinel if configured)."""
        if self._redis is None:
            s = self.settings
            self._redis = connect(s.redis_url, s.redis_sentinels, s.redis_sentinel_master, socket_timeout=None)
        return self._redis

    def roster(self) -> Roster:
        """The roster the processes will load (a bad one raises ConfigError here, before any starts)."""
        # Imported here: the launcher's own process (make run, a benchmark's driver) runs none of
        # the service, and loading all of it would only weigh on that process.
        from bootstrap import load_languages, load_roster_file

        return load_roster_file(self.settings, load_languages(self.settings))
