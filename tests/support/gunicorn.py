"""The service under a real gunicorn, for tests that attack it over HTTP as a stranger would.

The Procfile's `web` entry (its worker class and timeouts), started the launcher's way (a
process group of its own, stopped within a bound), with the test's workers, threads and
settings. The listening socket is bound here (port 0: whatever the kernel gives) and handed
to gunicorn as `fd://N`, so there is no window in which another process could take the
port, and the test knows the URL before gunicorn starts: `PUBLIC_BASE_URL` is that URL, so
requests signed for it verify. Everything gunicorn and the app write to stderr (the app's
log lines included) goes to a file the test can read back.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import requests

from config.settings import Settings
from launcher import procfile
from launcher.processes import Processes
from launcher.stack import settings_env


@dataclass
class Gunicorn:
    """A running `gunicorn wsgi:app`; `settings` are the ones its processes read."""

    url: str
    settings: Settings
    proc: subprocess.Popen
    log_path: Path
    _procs: Processes

    def log(self) -> str:
        """Everything written to stderr so far (gunicorn's lines and the app's logging)."""
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[str]:
        return self.log().splitlines()

    def stop(self) -> None:
        self._procs.stop(deadline=time.monotonic() + 10)


def start_gunicorn(
    settings: Settings,
    workers: int = 1,
    threads: int = 4,
    env: dict[str, str] | None = None,
    wait_path: str = "/healthz",
    timeout: float = 30.0,
    graceful_timeout: int = 2,
) -> Gunicorn:
    """Start gunicorn on a fresh loopback port with `settings` (its public URL rewritten to
    that port) and wait until `wait_path` answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = replace(settings, public_base_url=url)
    fd, log_name = tempfile.mkstemp(prefix="ird-gunicorn-", suffix=".log")
    os.close(fd)
    child_env = dict(os.environ, **settings_env(settings), PYTHONUNBUFFERED="1", **(env or {}))
    child_env.setdefault("LOG_LEVEL", "INFO")
    _, argv = procfile.process("web", child_env, bind=f"fd://{sock.fileno()}")
    for flag, value in (("--workers", workers), ("--threads", threads), ("--graceful-timeout", graceful_timeout)):
        argv = procfile.with_option(argv, flag, str(value))
    procs = Processes()
    try:
        proc = procs.spawn("gunicorn", argv, child_env, output=Path(log_name), pass_fds=(sock.fileno(),))
    finally:
        sock.close()  # gunicorn holds its own copy
    server = Gunicorn(url, settings, proc, Path(log_name), procs)
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url + wait_path, timeout=1)
            return server
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise AssertionError("gunicorn exited at start:\n" + server.log()[-3000:])
        if time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"gunicorn did not answer within {timeout:.0f} s:\n" + server.log()[-3000:])
        time.sleep(0.1)
