"""The launcher's parts: stopping by process group within a bound (what was left running
after `make run` used to be a gunicorn worker that ignored SIGTERM and outlived its killed
master), and the port check that names the variable to set."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from launcher.ports import PortInUse, check_free, free_port, in_use
from launcher.processes import Exited, Processes, group_members
from launcher.stack import Ports

# A parent that ignores SIGTERM (as a gunicorn worker in its graceful shutdown does) with a
# child of its own that ignores it too; it prints the child's pid, then waits forever.
STUBBORN = textwrap.dedent("""
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    print(child.pid, flush=True)
    time.sleep(600)
""")


def _spawn_reading_pid(procs: Processes, name: str, code: str, tmp_path: Path) -> tuple[subprocess.Popen, int]:
    out = tmp_path / f"{name}.out"
    proc = procs.spawn(name, [sys.executable, "-c", code], {}, output=out)
    deadline = time.monotonic() + 30
    while not out.read_text().strip():
        assert time.monotonic() < deadline and proc.poll() is None, out.read_text()
        time.sleep(0.02)
    return proc, int(out.read_text().split()[0])


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_a_process_ignoring_sigterm_and_its_child_are_killed_at_the_deadline(tmp_path):
    procs = Processes()
    proc, grandchild = _spawn_reading_pid(procs, "stubborn", STUBBORN, tmp_path)
    assert os.getpgid(grandchild) == proc.pid, "the child's child is in the group"
    began = time.monotonic()
    procs.stop(deadline=began + 1.0)
    assert proc.poll() is not None and _gone(grandchild)
    assert group_members(proc.pid) == [] and procs.named() == []


def test_what_a_dead_parent_left_in_its_group_is_stopped_too(tmp_path):
    """A gunicorn master killed with its workers still running: the group is what is stopped."""
    code = textwrap.dedent("""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print(child.pid, flush=True)
    """)
    procs = Processes()
    proc, orphan = _spawn_reading_pid(procs, "parent", code, tmp_path)
    proc.wait(30)
    assert not _gone(orphan), "its child outlived it"
    procs.stop(deadline=time.monotonic() + 5)
    assert _gone(orphan)


def test_a_child_that_ends_on_its_own_is_reported_with_its_status_and_log(tmp_path):
    procs = Processes()
    proc = procs.spawn(
        "web", [sys.executable, "-c", "import sys; print('no app'); sys.exit(3)"], {}, output=tmp_path / "web.log"
    )
    proc.wait(30)
    with pytest.raises(Exited, match=r"web \(pid \d+\) exited with status 3\nno app"):
        procs.check_alive()
    procs.stop(["web"])
    assert procs.exited() == [], "one asked to stop is not news"


def test_a_taken_port_is_named_with_the_variable_that_moves_it():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert in_use(port)
        with pytest.raises(PortInUse, match=f"port {port} is already in use: .*set SIM_PORT"):
            check_free({"PORT": free_port(), "SIM_PORT": port})
    with pytest.raises(PortInUse, match="DASHBOARD_PORT and PORT are both"):
        same = free_port()
        check_free({"PORT": same, "DASHBOARD_PORT": same})


def test_ports_come_from_their_variables_and_a_bad_one_is_named():
    ports = Ports.from_env({"PORT": "9000", "SIM_PORT": ""})
    assert (ports.web, ports.dashboard, ports.sim, ports.redis) == (9000, 8001, 8091, 6390)
    with pytest.raises(ValueError, match="LOCAL_REDIS_PORT='redis'"):
        Ports.from_env({"LOCAL_REDIS_PORT": "redis"})
    with pytest.raises(ValueError, match="CALLBACKS_PORT='70000'"):
        Ports.from_env({"CALLBACKS_PORT": "70000"})


def test_free_ports_for_one_stack_are_all_different():
    """Each port of a stack is chosen while the others are still held: the kernel can hand a
    port it has just given out straight back to the next bind (rare: a launcher test once got
    CALLBACKS_PORT and LOCAL_REDIS_PORT both 55141; not seen in 2,000 tries since)."""
    from launcher.ports import free_ports
    from launcher.stack import Ports

    for _ in range(50):
        ports = Ports.free()
        chosen = [getattr(ports, name) for name in Ports.VARIABLES]
        assert len(set(chosen)) == len(chosen), chosen
        assert len(set(free_ports(9))) == 9
