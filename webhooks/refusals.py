"""Requests we refuse (bad signatures, unknown paths) may not flood the log.

`RefusalLog` writes a few lines per interval per process, then one count of the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class RefusalLog:
    """At most `lines` refusal lines per `interval` seconds in this process; the rest are
    counted, and the count is logged once when the interval ends.

    A stranger's garbage is not our error: each line is short, at INFO or WARNING, with no
    traceback; and a stranger can send thousands a second, whose lines, unbounded, would
    slow the real webhooks.
    """

    def __init__(
        self,
        logger: logging.Logger,
        lines: int = 10,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        timers: bool = True,
    ):
        self.logger = logger
        self.lines = lines
        self.interval = interval
        self.clock = clock
        self.timers = timers  # False: the caller calls flush() (tests with a fake clock)
        self._lock = threading.Lock()
        self._window_end = float("-inf")
        self._logged = 0
        self._suppressed = 0
        self._armed = False

    def refused(self, level: int, msg: str, *args: object) -> None:
        """Log `msg % args` if this interval's budget allows, else count it."""
        with self._lock:
            now = self.clock()
            late = 0
            if now >= self._window_end:
                late, self._suppressed = self._suppressed, 0  # a summary its timer did not write
                self._window_end, self._logged = now + self.interval, 0
            if self._logged < self.lines:
                self._logged += 1
                emit = True
            else:
                self._suppressed += 1
                emit = False
                if not self._armed and self.timers:
                    self._armed = True
                    timer = threading.Timer(max(0.0, self._window_end - now), self.flush)
                    timer.daemon = True
                    timer.start()
        if late:
            self._summary(late)
        if emit:
            self.logger.log(level, msg, *args)

    def flush(self) -> None:
        """Write the count of refusals not logged so far, if any."""
        with self._lock:
            count, self._suppressed, self._armed = self._suppressed, 0, False
        if count:
            self._summary(count)

    def _summary(self, count: int) -> None:
        self.logger.warning(
            "…and %d more refused requests in the last %g s (not logged one by one)", count, self.interval
        )
