"""The ordered event log: one plain line per thing that happened on the network.

Confidentiality rule: no full phone number ever reaches a log line, so every
E.164-looking number in the text is masked down to its last four digits.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

_PHONE = re.compile(r"\+?\d[\d\-\s().]{6,}\d")


def mask(number: str) -> str:
    """`+12125550111` → `•••0111`; anything shorter than five digits stays as it is."""
    digits = re.sub(r"\D", "", number or "")
    if len(digits) < 5:
        return number or ""
    return "•••" + digits[-4:]


def mask_text(text: str) -> str:
    """Mask every phone-number-like run (7+ digits) in free text."""

    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return mask(digits) if len(digits) >= 7 else m.group(0)

    return _PHONE.sub(repl, text)


class EventLog:
    """Thread-safe, bounded, sequence-numbered; optionally echoed to stdout."""

    def __init__(self, echo: bool = True, limit: int = 50_000):
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._seq = 0
        self._t0 = time.monotonic()
        self.echo = echo

    def add(self, call: str | None, text: str, route: str = "") -> dict[str, Any]:
        now = datetime.now()
        clock = now.strftime("%H:%M:%S.") + f"{now.microsecond // 1000:03d}"
        text = mask_text(text)
        with self._lock:
            self._seq += 1
            entry = {
                "seq": self._seq,
                "t": round(time.monotonic() - self._t0, 3),
                "time": clock,
                "call": call,
                "text": text,
            }
            self._entries.append(entry)
        if self.echo:
            who = f"{call[:8]}…" if call else "-"
            line = f"{clock} {who} {route + ' ' if route else ''}{text}"
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except (OSError, ValueError):
                pass
        return entry

    def after(self, seq: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > seq]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
