"""The service under a real gunicorn, for tests that attack it over HTTP as a stranger would.

The listening socket is bound here (port 0: whatever the kernel gives) and handed to
gunicorn as `fd://N`, so there is no window in which another process could take the
port, and the test knows the URL before gunicorn starts: `PUBLIC_BASE_URL` is that
URL, so requests signed for it verify. Everything gunicorn and the app write to stderr
(the app's log lines included) goes to a file the test can read back.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import requests

from config.settings import ROOT, Settings
from tests.support.stack import settings_env

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


@dataclass
class Gunicorn:
    """A running `gunicorn wsgi:app`; `settings` are the ones its processes read."""

    url: str
    settings: Settings
    proc: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """Everything written to stderr so far (gunicorn's lines and the app's logging)."""
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[str]:
        return self.log().splitlines()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_gunicorn(settings: Settings, workers: int = 1, threads: int = 4, env: dict[str, str] | None = None,
                   wait_path: str = "/healthz", timeout: float = 30.0) -> Gunicorn:
    """Start gunicorn on a fresh loopback port with `settings` (its public URL rewritten to
    that port) and wait until `wait_path` answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = replace(settings, public_base_url=url)
    log_file = tempfile.NamedTemporaryFile(prefix="ird-gunicorn-", suffix=".log", delete=False)
    child_env = dict(os.environ, **settings_env(settings), PYTHONUNBUFFERED="1", **(env or {}))
    child_env.setdefault("LOG_LEVEL", "INFO")
    proc = subprocess.Popen(
        [GUNICORN, "--workers", str(workers), "--threads", str(threads), "--bind", f"fd://{sock.fileno()}",
         "--timeout", "15", "--graceful-timeout", "2", "wsgi:app"],
        cwd=ROOT, env=child_env, stdout=log_file, stderr=subprocess.STDOUT, pass_fds=(sock.fileno(),))
    sock.close()  # gunicorn holds its own copy
    log_file.close()
    server = Gunicorn(url, settings, proc, Path(log_file.name))
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
