"""Log lines a stranger can neither forge nor flood, for every process (web and workers).

Anything a request carries (its path, a form field, a header) may hold CR, LF or a
terminal escape: logged as is, a path with `%0a` writes a line of its own that looks like
ours. `EscapingFormatter` escapes every control character in a record's message once for
all logging, so no call site has to remember; `clip` bounds an outside value's size where
it is logged. `configure_logging` installs it; bootstrap calls it in every process.
"""

from __future__ import annotations

import logging
import os

# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators: everything
# a terminal, a log viewer or str.splitlines() may treat as a line break or an escape.
_CONTROL = [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
ESCAPES = {c: _NAMED.get(c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROL}
_KEEP_NEWLINES = {c: e for c, e in ESCAPES.items() if c != 0x0A}

MAX_MESSAGE = 4000  # a backstop: our own messages are far shorter, outside values are clipped
VALUE_LIMIT = 120
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """Plain one-line logs, control characters escaped (a value from outside cannot start
    a line of its own); the SDK's request logger would print URLs and headers. A root logger
    already set up is left as it is."""
    handler = logging.StreamHandler()
    handler.setFormatter(EscapingFormatter(LOG_FORMAT))
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), handlers=[handler])
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


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
