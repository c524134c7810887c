"""Log lines a stranger can neither forge nor flood.

Anything a request carries (its path, a form field, a header) may hold CR, LF or a
terminal escape: logged as is, a path with `%0a` writes a line of its own that looks like
ours. `EscapingFormatter` escapes every control character in a record's message once for
all logging, so no call site has to remember; `clip` bounds an outside value's size where
it is logged. `RefusalLog` keeps requests we refuse (bad signatures, unknown paths) from
flooding the log: a few lines per interval per process, then one count of the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators: everything
# a terminal, a log viewer or str.splitlines() may treat as a line break or an escape.
_CONTROL = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
ESCAPES = {c: _NAMED.get(c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROL}
_KEEP_NEWLINES = {c: e for c, e in ESCAPES.items() if c != 0x0A}

MAX_MESSAGE = 4000  # a backstop: our own messages are far shorter, outside values are clipped
VALUE_LIMIT = 120


def escape(text: str) -> str:
    """`text` on one line: control characters written as escapes (\\n, \\r, \\x1b, ...)."""
    return text.translate(ESCAPES)


def clip(value: object, limit: int = VALUE_LIMIT) -> str:
    """An outside value bounded for a log line: at most `limit` characters, with the length cut."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}…(+{len(text) - limit})"


class EscapingFormatter(logging.Formatter):
    """One record, one line: the message escaped and bounded; a traceback (our own
    exception) keeps its line breaks, but each of its lines is indented, so a line that
    starts at the margin is always the start of a record."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = escape(super().formatMessage(record))
        return line if len(line) <= MAX_MESSAGE else clip(line, MAX_MESSAGE)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        # Not record.exc_text: another handler may have cached it unescaped.
        blocks = [self.formatException(record.exc_info)] if record.exc_info else []
        if record.stack_info:
            blocks.append(self.formatStack(record.stack_info))
        for block in blocks:
            text += "\n" + "\n".join("    " + line for line in block.translate(_KEEP_NEWLINES).split("\n"))
        return text


class RefusalLog:
    """At most `lines` refusal lines per `interval` seconds in this process; the rest are
    counted, and the count is logged once when the interval ends.

    A stranger's garbage is not our error: each line is short, at INFO or WARNING, with no
    traceback. Without a bound, thousands of refused requests a second wrote tens of
    thousands of lines and slowed the real webhooks.
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
