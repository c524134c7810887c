"""The event stream watchers read: every request transition and liaison change.

Writers append inside their own atomic scripts (see requests.py); this module is
the reading side plus the append for events that are not request transitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis

from dispatch import clock, keys


@dataclass(frozen=True)
class Event:
    id: str  # stream id, monotonically increasing: the SSE Last-Event-ID
    request: str
    event: str
    source: str
    target: str
    ts: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request": self.request,
            "event": self.event,
            "from": self.source,
            "to": self.target,
            "ts": self.ts,
            "data": self.data,
        }


def publish(r: redis.Redis, event: str, data: dict[str, Any], request: str = "", maxlen: int = 10000) -> None:
    """Append a non-transition event (liaison state, sergeant action) for watchers."""
    r.xadd(
        keys.EVENTS,
        {"request": request, "event": event, "from": "", "to": "", "ts": clock.iso(), "data": json.dumps(data)},
        maxlen=maxlen,
        approximate=True,
    )


def read(r: redis.Redis, after: str = "$", block_ms: int | None = None, count: int = 100) -> list[Event]:
    """Events after stream id `after` ("$" = only new ones, "0" = from the start)."""
    reply = r.xread({keys.EVENTS: after}, count=count, block=block_ms)
    out: list[Event] = []
    for _stream, entries in reply or []:
        for entry_id, fields in entries:
            f = {k.decode(): v.decode() for k, v in fields.items()}
            out.append(
                Event(
                    entry_id.decode(),
                    f.get("request", ""),
                    f.get("event", ""),
                    f.get("from", ""),
                    f.get("to", ""),
                    f.get("ts", ""),
                    json.loads(f.get("data") or "{}"),
                )
            )
    return out


def last_id(r: redis.Redis) -> str:
    """The newest event id, so a new watcher starts from now."""
    info = r.xrevrange(keys.EVENTS, count=1)
    return info[0][0].decode() if info else "0"


def audit(r: redis.Redis, who: str, action: str, target: str, outcome: str) -> None:
    """Append to the audit log: a stream, so entries can be added but never edited."""
    r.xadd(keys.AUDIT, {"ts": clock.iso(), "who": who, "action": action, "target": target, "outcome": outcome})


def audit_entries(r: redis.Redis, count: int = 100) -> list[dict[str, str]]:
    return [
        dict({k.decode(): v.decode() for k, v in f.items()}, id=i.decode())
        for i, f in r.xrevrange(keys.AUDIT, count=count)
    ]
