"""The stack's child processes, each the leader of a process group of its own.

Why groups: a gunicorn master's workers and an RQ worker's scheduler are children of the
process we started. Stopping only the parent (or killing it after a timeout) used to leave
them running with no parent, still listening. Signalling the group reaches all of them,
even after their parent has died. A group of its own also keeps a terminal's Ctrl-C away
from the children: the launcher alone decides the order of the stop (the phone simulator
first, so no call posts callbacks to a web process that is already gone).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL = 0.05
KILL_WAIT = 2.0  # after SIGKILL: how long to wait for the kernel to take them away


@dataclass(eq=False)
class Child:
    name: str
    proc: subprocess.Popen
    log: Path | None
    stopping: bool = False  # the launcher asked it to stop: its exit is not news

    @property
    def pgid(self) -> int:
        return self.proc.pid  # the leader of its own group


class Exited(RuntimeError):
    """A child ended on its own (it was not asked to stop)."""

    def __init__(self, child: Child):
        self.child = child
        tail = f"\n{log_tail(child.log)}" if child.log else ""
        super().__init__(f"{child.name} (pid {child.proc.pid}) exited with status {child.proc.returncode}{tail}")


def log_tail(path: Path | None, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path else ""
    except OSError:
        return ""


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in the group, from /proc; where there is no /proc, the group
    counts as live while the kernel still delivers signals to it."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return [pgid]
        except (ProcessLookupError, PermissionError):
            return []
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp ...
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


class Processes:
    """Children started in their own process groups; `stop` ends them within a deadline."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self._lock = threading.Lock()

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        output: Path | int | None = None,
        cwd: Path = ROOT,
        pass_fds: Sequence[int] = (),
    ) -> subprocess.Popen:
        """Start `argv` as `name`. `output`: None (this terminal), subprocess.DEVNULL, or a
        file to append to (its tail is quoted if the child dies)."""
        log = open(output, "ab") if isinstance(output, Path) else output
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log is not None else None,
                process_group=0,
                pass_fds=tuple(pass_fds),
            )
        finally:
            if isinstance(output, Path) and log is not None:
                log.close()  # type: ignore[union-attr]
        with self._lock:
            self.children.append(Child(name, proc, output if isinstance(output, Path) else None))
        return proc

    def named(self, prefix: str = "") -> list[Child]:
        with self._lock:
            return [c for c in self.children if c.name.startswith(prefix)]

    def pids(self, prefix: str = "") -> list[int]:
        """Pids of the running children whose name starts with `prefix`."""
        return [c.proc.pid for c in self.named(prefix) if c.proc.poll() is None]

    def exited(self) -> list[Child]:
        """Children that ended without being asked to."""
        return [c for c in self.named() if not c.stopping and c.proc.poll() is not None]

    def check_alive(self, among: Iterable[subprocess.Popen] | None = None) -> None:
        """Raise Exited for the first child (of `among`, if given) that ended on its own."""
        wanted = None if among is None else {p.pid for p in among}
        for child in self.exited():
            if wanted is None or child.proc.pid in wanted:
                raise Exited(child)

    def stop(
        self, prefixes: Iterable[str] | None = None, deadline: float | None = None, hurry: threading.Event | None = None
    ) -> None:
        """SIGTERM each chosen child (the group's leader: a gunicorn master then stops its
        workers gracefully, an RQ worker finishes its job), wait until every process of their
        groups has gone or `deadline` (monotonic) passes or `hurry` is set, then SIGKILL the
        groups. Children already gone are forgotten."""
        chosen = self.named() if prefixes is None else [c for p in prefixes for c in self.named(p)]
        deadline = time.monotonic() + 8.0 if deadline is None else deadline
        for child in chosen:
            child.stopping = True
            if child.proc.poll() is None:
                _signal(child.proc.pid, signal.SIGTERM)
            else:  # the leader is gone: its group may not be (a gunicorn worker whose master died)
                _signal_group(child.pgid, signal.SIGTERM)
        left = self._wait(chosen, deadline, hurry)
        if left:
            for child in left:
                _signal_group(child.pgid, signal.SIGKILL)
            left = self._wait(left, time.monotonic() + KILL_WAIT, None)
        with self._lock:
            gone = {id(c) for c in chosen if c not in left}
            self.children = [c for c in self.children if id(c) not in gone]

    def _wait(self, children: list[Child], deadline: float, hurry: threading.Event | None) -> list[Child]:
        """Wait until each child and its group are gone; return those still there at the deadline."""
        left = list(children)
        while left:
            for child in left:
                child.proc.poll()  # reap the leader, so it does not count as a member
            left = [c for c in left if c.proc.poll() is None or group_members(c.pgid)]
            if not left or time.monotonic() >= deadline or (hurry is not None and hurry.is_set()):
                break
            time.sleep(POLL)
        return left


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
