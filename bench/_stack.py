"""The stack for the benchmarks: the launcher's (launcher/stack.py), on free loopback ports,
in a temporary directory, with the bench roster, plus what the benchmarks measure with.

Not a benchmark itself. Every process started here is stopped (by process group, within a
bound) when the script ends, fails, is interrupted or runs past its time limit.

    with Stack(workers=2, simulator=True) as st:     # Redis + gunicorn + RQ workers + simulator
        st.env, st.web_url, st.sim_url, st.redis ...
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
from dataclasses import fields
from pathlib import Path

import requests

from bench._figures import tree_rss_cpu
from config.settings import Settings
from launcher import procfile
from launcher.stack import Ports
from launcher.stack import Stack as LauncherStack

BENCH = Path(__file__).resolve().parent
ROSTER = BENCH / "data" / "roster.bench.yaml"
ACCOUNT_SID = "AC" + "0" * 31 + "1"


class TimeLimit(Exception):
    """The script ran past its --max-seconds bound."""


def hard_limit(seconds: float) -> None:
    """Raise TimeLimit in the main thread after `seconds`, so `finally:` blocks still clean up."""

    def _alarm(signum: int, frame: object) -> None:
        raise TimeLimit(f"benchmark exceeded its {seconds:.0f}s time limit")

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(max(1, int(seconds)))
    # SIGTERM (e.g. from make) also unwinds through the finally blocks.
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment minus any service setting, plus `extra`."""
    names = {f.name.upper() for f in fields(Settings)} | {"LOG_LEVEL", *Ports.VARIABLES.values()}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def gunicorn_shape(kind: str = "web") -> str:
    """'2 workers x 2 threads': how the Procfile's `kind` entry runs gunicorn here."""
    _, argv = procfile.process(kind, clean_env({}))
    return f"{procfile.option(argv, '--workers')} workers x {procfile.option(argv, '--threads')} threads"


class Stack(LauncherStack):
    """Embedded Redis, then (optionally) the Procfile's web and callbacks processes (status
    callbacks go to their own port, as STATUS_CALLBACK_BASE_URL), RQ workers and the phone
    simulator (bench/_sim.py: the simulator plus a recorder of call-creates). Logs in `tmp`.

    `settings` are extra service settings by environment name (e.g. CALLER_RATE_LIMIT).
    """

    def __init__(
        self,
        workers: int = 2,
        web: bool = True,
        simulator: bool = True,
        settings: dict[str, str] | None = None,
        sim_time_scale: float = 0.05,
        log_level: str = "INFO",
        sim_cpu_idle: bool = False,
    ):
        self.tmp = Path(tempfile.mkdtemp(prefix="ird-bench-"))
        ports = Ports.free()
        self.auth_token = secrets.token_hex(16)
        env = clean_env(
            {
                "PUBLIC_BASE_URL": ports.url("web"),
                "STATUS_CALLBACK_BASE_URL": ports.url("callbacks") if web else "",
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": self.auth_token,
                "TWILIO_API_BASE_URL": ports.url("sim"),
                "ROSTER_FILE": str(ROSTER),
                "LOCAL_MODE": "1",
                "SECRET_KEY": secrets.token_hex(32),
                "LOG_LEVEL": log_level,
                **(settings or {}),
            }
        )
        # The simulator only on CPU the service leaves (--cpu-idle, see bench/_sim.py).
        sim_args = [
            "--time-scale",
            str(sim_time_scale),
            "--default-answer-after",
            "1.0",
            "--quiet",
            *(["--cpu-idle"] if sim_cpu_idle else []),
        ]
        super().__init__(
            env,
            ports,
            redis_dir=self.tmp / "redis",
            redis_snapshots=False,
            served=("web", "callbacks") if web else (),
            workers=workers,
            simulator="bench._sim" if simulator else None,
            simulator_args=sim_args,
            output=self.tmp,
        )
        self.want_sim = simulator
        self.web_url, self.callbacks_url, self.sim_url = ports.url("web"), ports.url("callbacks"), ports.url("sim")
        self.redis_url = self.settings.redis_url

    # -- lifecycle
    def __enter__(self) -> Stack:
        try:
            self.start()  # (stops what it had started if it fails)
        except BaseException:
            self._forget_logs()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._forget_logs()

    def _forget_logs(self) -> None:
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"   logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_dashboard(self) -> str:
        """The Procfile's `dashboard` process: where the sergeants' pages and event streams go."""
        self.dashboard_url = self.serve("dashboard")
        self.wait_http(self.dashboard_url + "/healthz")
        return self.dashboard_url

    # -- helpers
    def context(self, jobs: object | None = None):  # type: ignore[no-untyped-def]
        """The service's own wiring, in this process (for opening requests like a webhook does)."""
        from dispatch.context import build_context
        from workers.jobqueue import RQJobs

        return build_context(self.settings, jobs=jobs or RQJobs.from_settings(self.settings))

    def reset(self, answer: bool = True) -> None:
        """Forget requests, liaison state, queues and simulated calls (as the e2e tests do)."""
        from dispatch import keys
        from dispatch.liaisons import LiaisonBoard

        if self.want_sim:
            requests.post(self.sim_url + "/sim/reset", timeout=60)
        for key in self.redis.scan_iter(keys.PREFIX + "*", count=1000):
            if not key.startswith(keys.WORKER_HEARTBEAT.encode()):
                self.redis.delete(key)
        for key in self.redis.scan_iter("rq:queue:*"):
            self.redis.delete(key)
        LiaisonBoard(self.redis).sync([l.id for l in self.roster().liaisons])
        if self.want_sim:
            self.set_parties(answer)

    def set_parties(self, answer: bool = True, talk: float = 5.0) -> None:
        """answer=True: liaisons answer after 1 s and press 1, the vendor lines answer after 1 s,
        and each hangs up after `talk` s. answer=False: every interpreter phone just rings
        (until the app's ring timeout), so only 'initiated'/'ringing' callbacks reach the app."""
        roster = self.roster()
        if answer:
            liaison = {"answer": "after", "answer_after": 1.0, "inputs": [{"digits": "1"}], "hangup_after": talk}
            vendor = {"answer": "after", "answer_after": 1.0, "hangup_after": talk}
        else:
            liaison = vendor = {"answer": "never"}
        parties = {l.phone: liaison for l in roster.liaisons}
        for number in (roster.vendor.number, roster.vendor.alternate):
            if number:
                parties[number] = vendor
        requests.post(self.sim_url + "/sim/parties", json=parties, timeout=30).raise_for_status()

    def sim_arrivals(self, since: int = 0) -> list[dict]:
        """REST call-creates the simulator received (from index `since`): {"t": epoch, "to", "url"}."""
        return requests.get(self.sim_url + "/bench/arrivals", params={"since": since}, timeout=60).json()

    def group_usage(self) -> dict[str, tuple[float, float]]:
        """(RSS MiB, CPU s) per process group: web, workers, simulator, redis, this driver."""
        out = {
            "web (gunicorn)": tree_rss_cpu(self.procs.pids("web")),
            "callbacks (gunicorn)": tree_rss_cpu(self.procs.pids("callbacks")),
            "dashboard (gunicorn)": tree_rss_cpu(self.procs.pids("dashboard")),
            "workers": tree_rss_cpu(self.procs.pids("worker")),
            "simulator": tree_rss_cpu(self.procs.pids("simulator")),
            "bench driver": tree_rss_cpu([os.getpid()], children=False),
        }
        rpid = self.redis_pid()
        if rpid:
            out["redis"] = tree_rss_cpu([rpid])
        return out

    def redis_pid(self) -> int | None:
        return self.embedded.pid if self.embedded is not None else None
