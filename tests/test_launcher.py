"""`make run`'s launcher, run as `make run` runs it (`python -m scripts.run_local`, a
subprocess in a process group of its own, as a terminal's foreground job is), on free
ports with a fast trickle of simulated calls.

What a developer would notice: Ctrl-C leaves nothing behind (no gunicorn worker still
listening, no Redis) and the ports are free for the next run, even with a sergeant's page
holding an event stream open and calls in flight; a port already taken is named, with the
variable to set, before anything starts; a start that fails halfway stops what it had
started; a normal stop is not reported as a crash, and a process that dies on its own is
named and the rest stopped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import fields
from pathlib import Path

import pytest
import requests

from config.settings import ROOT, Settings
from launcher.ports import in_use
from launcher.stack import Ports

pytestmark = pytest.mark.e2e

STOP_BOUND = 10.0  # the promise: every process gone within this after Ctrl-C
START_BOUND = 180.0  # three gunicorns, two workers and the simulator on a busy 2-CPU machine
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_make_run_runs_this_entry_point():
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "-m scripts.run_local" in recipe


# ------------------------------------------------------------------------------ helpers
def _proc_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, pgid, state) for every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid, pgid = stat[stat.rfind(")") + 2 :].split()[:3]
            table[int(entry.name)] = (int(ppid), int(pgid), state)
    return table


def descendants(root: int) -> dict[int, int]:
    """Live processes below `root` (children, grandchildren, ...): pid -> pgid."""
    table = _proc_table()
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, pgid, state) in table.items():
            if ppid == parent and pid not in found and state not in "ZX":
                found[pid] = pgid
                frontier.append(pid)
    return found


def alive(pids: dict[int, int]) -> list[str]:
    """Which of `pids` (or anything else in their process groups) still runs, described."""
    groups = set(pids.values())
    left = []
    for pid, (_, pgid, state) in _proc_table().items():
        if (pid in pids or pgid in groups) and state not in "ZX":
            try:
                cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
            except OSError:
                cmd = "?"
            left.append(f"{pid} (group {pgid}): {cmd}")
    return left


def mentioning(ports: Ports) -> list[str]:
    """Processes whose command line names one of the stack's ports (gunicorn's bind,
    redis-server's port, the simulator's)."""
    wanted = {str(getattr(ports, name)) for name in Ports.VARIABLES}
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                words = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if any(w.rsplit(":", 1)[-1] in wanted for w in words if w):
                out.append(f"{entry.name}: {' '.join(words)[:120]}")
    return out


class LocalRun:
    """`python -m scripts.run_local` in its own process group; its output collected."""

    def __init__(self, tmp_path: Path, ports: Ports, **extra: str) -> None:
        names = {f.name.upper() for f in fields(Settings)} | {"LOG_LEVEL", *Ports.VARIABLES.values()}
        env = {k: v for k, v in os.environ.items() if k not in names}
        env.update({variable: str(getattr(ports, name)) for name, variable in Ports.VARIABLES.items()})
        env.update(LOCAL_REDIS_DIR=str(tmp_path / "var"), TRICKLE_EVERY="1", PYTHONUNBUFFERED="1", **extra)
        self.ports = ports
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scripts.run_local"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            process_group=0,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.proc.poll() is not None:
                self._reader.join(5)
                pytest.fail(f"make run exited ({self.proc.returncode}) before {text!r}:\n{self.output[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} within {timeout:.0f} s:\n{self.output[-4000:]}")
            time.sleep(0.1)

    def finish(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:  # the test failed: leave nothing behind anyway
                left = descendants(self.proc.pid)
                for pgid in {self.proc.pid, *left.values()}:
                    try:
                        os.killpg(pgid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.proc.wait(5)
        self._reader.join(5)
        return code

    def started_pids(self) -> dict[str, int]:
        """What it said it started: name -> pid."""
        found = (re.search(r"started (.+?): pid (\d+)", line) for line in self.lines)
        return {m.group(1): int(m.group(2)) for m in found if m}


def sign_in_and_stream(dashboard: str) -> tuple[requests.Response, dict]:
    """A sergeant's page: the real sign-in form, then /dashboard/stream held open; a thread
    reads it and records how it ended."""
    session = requests.Session()
    form = session.get(dashboard + "/dashboard/signin", timeout=30)
    token = _CSRF.search(form.text)
    assert token, form.text[:500]
    signed = session.post(
        dashboard + "/dashboard/signin",
        timeout=30,
        allow_redirects=False,
        data={"csrf_token": token.group(1), "username": "sergeant", "password": "sergeant-demo"},
    )
    assert signed.status_code in (302, 303), signed.status_code
    resp = session.get(
        dashboard + "/dashboard/stream", stream=True, timeout=(10, 60), headers={"Accept": "text/event-stream"}
    )
    assert resp.status_code == 200, resp.status_code
    outcome: dict = {"text": ""}

    def read() -> None:
        try:
            for chunk in resp.iter_content(chunk_size=None):
                outcome["text"] += chunk.decode(errors="replace")
            outcome["ended"] = "cleanly"
        except requests.RequestException as exc:
            outcome["ended"] = f"cut off: {type(exc).__name__}"

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 30
    while ": connected" not in outcome["text"]:
        assert time.monotonic() < deadline, "the stream did not start"
        time.sleep(0.05)
    return resp, outcome


# ------------------------------------------------------------------------------ the tests
def test_ctrl_c_stops_every_process_within_ten_seconds_with_a_page_streaming(tmp_path):
    ports = Ports.free()
    run = LocalRun(tmp_path, ports, BANNER_EVERY="1")
    try:
        run.wait_for("Ctrl-C stops everything", START_BOUND)
        started = descendants(run.proc.pid)
        said = run.started_pids()
        assert {"Redis", "web", "callbacks", "dashboard", "worker 1", "worker 2", "phone simulator"} <= set(said)
        assert set(said.values()) <= set(started), "everything it started is its child"
        assert len(started) >= len(said) + 4, "gunicorn's workers are below their masters"
        _, stream = sign_in_and_stream(ports.url("dashboard"))
        run.wait_for("incoming call to the service number", 30)  # the trickle: calls in flight
        banners = sum("Sergeant dashboard:" in line for line in run.lines)
        deadline = time.monotonic() + 30
        while sum("Sergeant dashboard:" in line for line in run.lines) <= banners:
            assert time.monotonic() < deadline, "the URLs were not printed again (BANNER_EVERY=1)"
            time.sleep(0.1)
        began = len(run.lines)

        os.killpg(run.proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the foreground group
        stopped_at = time.monotonic()
        code = run.finish(timeout=STOP_BOUND)
        while alive(started) and time.monotonic() < stopped_at + STOP_BOUND:
            time.sleep(0.05)
        assert alive(started) == [], "still running after Ctrl-C"
        assert code == 0, run.output[-3000:]
    finally:
        if run.proc.poll() is None:
            run.finish(timeout=0.1)
    assert [p for p in Ports.VARIABLES if in_use(getattr(ports, p))] == [], "ports free for the next run"
    assert mentioning(ports) == []
    deadline = time.monotonic() + 5
    while "ended" not in stream and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream.get("ended") == "cleanly", "the page's stream was ended, not cut off by a kill"
    after = run.lines[began:]
    assert any(line.startswith("stopped in") for line in after)
    assert not [line for line in after if "exited" in line], "a normal Ctrl-C is not a crash"
    assert not [line for line in after if "callback" in line and "failed" in line], (
        "the simulator stops before the processes its calls report to"
    )


def test_a_port_in_use_is_named_with_its_variable_and_nothing_starts(tmp_path):
    import socket

    ports = Ports.free()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports.dashboard))
        taken.listen(1)
        run = LocalRun(tmp_path, ports)
        code = run.finish(timeout=60)
    assert code != 0
    assert f"port {ports.dashboard} is already in use" in run.output and "DASHBOARD_PORT" in run.output, run.output
    assert "started" not in run.output.replace("could not start", "")
    assert mentioning(ports) == []


def test_a_start_that_fails_halfway_stops_what_it_had_started(tmp_path):
    ports = Ports.free()
    # The dashboard's gunicorn refuses its --threads; Redis, web, callbacks and the workers
    # are started by then.
    run = LocalRun(tmp_path, ports, DASHBOARD_THREADS="many")
    code = run.finish(timeout=START_BOUND)
    said = run.started_pids()
    assert {"Redis", "web", "callbacks", "dashboard"} <= set(said), run.output
    assert code != 0
    assert re.search(r"could not start: dashboard \(pid \d+\) exited with status", run.output), run.output
    assert alive({pid: pid for pid in said.values()}) == []
    assert mentioning(ports) == []
    assert [p for p in Ports.VARIABLES if in_use(getattr(ports, p))] == []


def test_a_process_that_dies_on_its_own_is_named_and_the_rest_are_stopped(tmp_path):
    ports = Ports.free()
    run = LocalRun(tmp_path, ports)
    try:
        run.wait_for("Ctrl-C stops everything", START_BOUND)
        started = descendants(run.proc.pid)
        worker = run.started_pids()["worker 2"]
        os.kill(worker, signal.SIGKILL)
        code = run.finish(timeout=START_BOUND)
    finally:
        if run.proc.poll() is None:
            run.finish(timeout=0.1)
    assert code != 0
    assert re.search(rf"worker 2 \(pid {worker}\) exited with status -9", run.output), run.output[-3000:]
    assert "stopping the rest" in run.output
    assert alive(started) == [] and mentioning(ports) == []
