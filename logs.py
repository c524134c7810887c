"""Log lines a stranger can neither forge nor flood, for every process (web and workers).

Anything a request carries (its path, a form field, a header) may hold CR, LF or a
terminal escape: logged as is, a path with `%0a` writes a line of its own that looks like
ours. `EscapingFormatter` escapes every control character in a record's message once for
all logging, so no call site has to remember; `clip` bounds an outside value's size where
it is logged. `configure_logging` installs it; bootstrap calls it in every process.

LOG_FORMAT=json gives log shippers one JSON object a line instead (`JsonFormatter`): `time`
(UTC, ISO 8601, milliseconds), `level`, `logger`, `message`, and when known `request_id`
(R00042), `call_sid` (its first ten characters, as the plain lines show it) and `exception`.
The ids come from `log_context` (a worker sets it around each job, from the job's arguments)
and from the sources an entrypoint adds (`add_id_source`: the web app's reads our own
callback URL and, once the handler has parsed it, Twilio's form). A value is taken only if
it has an id's exact shape, so a stranger's junk never becomes a field. One record stays one
line whatever it holds: json.dumps writes every control character, and with ensure_ascii
every non-ASCII one (U+2028, NEL), as an escape.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators: everything
# a terminal, a log viewer or str.splitlines() may treat as a line break or an escape.
_CONTROL = [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
ESCAPES = {c: _NAMED.get(c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROL}
_KEEP_NEWLINES = {c: e for c, e in ESCAPES.items() if c != 0x0A}

MAX_MESSAGE = 4000  # a backstop: our own messages are far shorter, outside values are clipped
VALUE_LIMIT = 120
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


REQUEST_ID = re.compile(r"R\d{1,12}")
CALL_SID = re.compile(r"CA[0-9a-f]{32}")
SID_SHOWN = 10

_context: ContextVar[dict[str, str]] = ContextVar("log_context")  # no default: .get({}) gives a fresh one
_id_sources: dict[str, Callable[[], dict[str, str]]] = {}


def configure_logging() -> None:
    """Plain one-line logs, control characters escaped (a value from outside cannot start
    a line of its own), or one JSON object a line with LOG_FORMAT=json (a bad value is
    Settings' to refuse); the SDK's request logger would print URLs and headers. A root
    logger already set up is left as it is."""
    handler = logging.StreamHandler()
    json_lines = os.environ.get("LOG_FORMAT", "").strip().lower() == "json"
    handler.setFormatter(JsonFormatter() if json_lines else EscapingFormatter(LOG_FORMAT))
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


@contextmanager
def log_context(**ids: str) -> Iterator[None]:
    """Records logged inside carry these ids (request_id, call_sid) unless a source says otherwise."""
    token = _context.set({**_context.get({}), **{k: v for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def add_id_source(name: str, source: Callable[[], dict[str, str]]) -> None:
    """Ask `source` for the ids of what is being done whenever a JSON line is written (the web
    app's: the request's). Added again under the same name, it replaces the first."""
    _id_sources[name] = source


def ids_in(values: Iterable[object]) -> dict[str, str]:
    """The first request id and call sid among `values` (a job's arguments, a request's fields)."""
    found: dict[str, str] = {}
    for value in values:
        if not isinstance(value, str):
            continue
        if "request_id" not in found and REQUEST_ID.fullmatch(value):
            found["request_id"] = value
        elif "call_sid" not in found and CALL_SID.fullmatch(value):
            found["call_sid"] = value
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object a line (LOG_FORMAT=json), for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        out: dict[str, object] = {
            "time": when.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": clip(record.getMessage(), MAX_MESSAGE),
        }
        ids = dict(_context.get({}))
        for source in list(_id_sources.values()):
            ids.update(source())
        if ids.get("request_id"):
            out["request_id"] = ids["request_id"]
        if ids.get("call_sid"):
            out["call_sid"] = ids["call_sid"][:SID_SHOWN]
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=True)
