"""Faults the tests inject into the simulated network: REST answers and lost callbacks.

Kept apart from the network's call state: a fault is taken by the REST front door or a
callback sender, never by a call leg's TwiML, and clearing faults leaves calls alone.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any


class Faults:
    """Queued REST faults and status callbacks to lose, each guarded by its own lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rest: deque[dict[str, Any]] = deque()
        self._lost_callbacks: list[dict[str, Any]] = []  # [{"path": substring, "count": n}]

    def add(self, rest: list[dict[str, Any]], lost_callbacks: list[dict[str, Any]]) -> int:
        """Queue REST faults (one entry per request they answer) and callbacks to lose;
        returns how many REST faults are pending."""
        with self._lock:
            self._rest.extend(rest)
            self._lost_callbacks.extend(lost_callbacks)
            return len(self._rest)

    def take(self, method: str = "", path: str = "") -> dict[str, Any] | None:
        """The first queued REST fault that applies to this request (a fault may name a
        method and a piece of the path, e.g. one call's sid), taken out of the queue."""
        with self._lock:
            for fault in self._rest:
                if fault.get("method", method).upper() == method.upper() and fault.get("path", "") in path:
                    self._rest.remove(fault)
                    return fault
            return None

    def lose_callback(self, url: str) -> bool:
        """True when a status callback to `url` is to be lost (a fault, as when the app is
        down: Twilio does not retry status callbacks); counts it against its fault."""
        with self._lock:
            for lost in self._lost_callbacks:
                if lost["count"] > 0 and lost.get("path", "") in url:
                    lost["count"] -= 1
                    return True
            return False

    def clear(self) -> None:
        with self._lock:
            self._rest.clear()
            self._lost_callbacks.clear()
