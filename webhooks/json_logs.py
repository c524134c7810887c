"""LOG_FORMAT=json: one JSON object per line, for log shippers (the default stays plain).

Each record: `time` (UTC, ISO 8601, milliseconds), `level`, `logger`, `message`, and when
known `request_id` (the interpretation request, R00042) and `call_sid` (its first ten
characters, as the plain lines show it), and `exception` (the traceback's text).

Where the ids come from: in a web request, our own callback URLs' `r` argument and Twilio's
CallSid field (only once Flask has parsed the form: a formatter must not read a stranger's
body); in a worker, the job's arguments (`log_context`, set around each job by
workers/worker.py). A value is taken only if it has an id's exact shape, so a stranger's
junk never becomes a field.

One record stays one line whatever it holds: json.dumps writes every control character,
and with ensure_ascii every non-ASCII one (U+2028, NEL), as an escape, so a forged newline
in a path or a form field cannot start a line (webhooks/logsafe.py does the same for the
plain format).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from webhooks.logsafe import MAX_MESSAGE, clip

REQUEST_ID = re.compile(r"R\d{1,12}")
CALL_SID = re.compile(r"CA[0-9a-f]{32}")
SID_SHOWN = 10
_context: ContextVar[dict[str, str]] = ContextVar("log_context", default={})


@contextmanager
def log_context(**ids: str) -> Iterator[None]:
    """Records logged inside carry these ids (request_id, call_sid) unless the request says otherwise."""
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def ids_in(values: Iterable[object]) -> dict[str, str]:
    """The first request id and call sid among `values` (a job's arguments)."""
    found: dict[str, str] = {}
    for value in values:
        if not isinstance(value, str):
            continue
        if "request_id" not in found and REQUEST_ID.fullmatch(value):
            found["request_id"] = value
        elif "call_sid" not in found and CALL_SID.fullmatch(value):
            found["call_sid"] = value
    return found


def _from_web_request() -> dict[str, str]:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - Flask is always there in this service
        return {}
    if not has_request_context():
        return {}
    values = [request.args.get("r", "")]
    if "form" in request.__dict__:  # already parsed by the handler: reading it costs nothing more
        values.append(request.form.get("CallSid", ""))
    return ids_in(values)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": clip(record.getMessage(), MAX_MESSAGE),
        }
        ids = {**_context.get(), **_from_web_request()}
        if ids.get("request_id"):
            out["request_id"] = ids["request_id"]
        if ids.get("call_sid"):
            out["call_sid"] = ids["call_sid"][:SID_SHOWN]
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=True)
