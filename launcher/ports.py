"""Loopback ports: a free one for tests and benchmarks, and for `make run`'s fixed ones a check
before anything starts, so a port another program holds is reported with the variable that
moves it instead of a process failing halfway through the start (leaving the rest running).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Mapping

HOST = "127.0.0.1"


class PortInUse(Exception):
    """A port the stack needs is taken; the message names it and the variable to set."""


def free_port() -> int:
    """A port the kernel has just handed out (free now; a test binds it straight away)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different ports the kernel has just handed out: the sockets are held together
    while it chooses, since one closed at once can be handed out again by the next bind."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]


def in_use(port: int, host: str = HOST) -> bool:
    """Whether something holds `port`. SO_REUSEADDR, as gunicorn and Redis bind: a socket of
    the last run still in TIME_WAIT is no obstacle, a listening one (even with SO_REUSEPORT,
    which would otherwise let a second gunicorn share the port silently) is."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
        return False


def check_free(ports: Mapping[str, int]) -> None:
    """Raise PortInUse for every port (by the variable that sets it) that is taken or given twice."""
    problems = []
    seen: dict[int, str] = {}
    for variable, port in ports.items():
        if port in seen:
            problems.append(f"{variable} and {seen[port]} are both {port}: set {variable} to another port")
        elif in_use(port):
            problems.append(f"port {port} is already in use: stop what holds it or set {variable} to a free port")
        seen.setdefault(port, variable)
    if problems:
        raise PortInUse("; ".join(problems))
