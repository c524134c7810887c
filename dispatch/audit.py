"""The audit log's bounds: refusals aggregated per source and hour, and a retention period.

People's actions (a sergeant's, a sign-in, a supervisor's CANCEL by text) are appended one
entry each by `events.audit`. Refusals are different: anyone outside can cause them by
the thousand (texts from unregistered numbers, wrong passwords), and one entry each let
300 texts push every sergeant action off the dashboard's view. So a refusal is counted
per *source* (what was refused, for whom, from where) and UTC hour: its first time in the
hour appends one entry to a stream of its own, every later one only adds to that entry's
count. The distinct sources of one hour are bounded too (MAX_SOURCES_PER_HOUR; later
ones are counted together as "others"), so varying the username cannot flood it either.
Actions and refusals are kept apart, so the dashboard shows the newest of each, whatever
the other does.

Both streams keep entries for AUDIT_RETENTION_SECONDS: the sweeper trims older ones
(`trim`), and an hour's counts expire with that hour's entries.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import redis

from dispatch import clock, keys

HOUR = 3600
MAX_SOURCES_PER_HOUR = 100
MAX_TEXT = 64  # characters of outside text (a username tried) kept in an entry
OTHERS = "(others)"

# KEYS[1] the hour's counts hash, KEYS[2] the refusals stream.
# ARGV: source, overflow source, max sources, counts TTL, hour, ts, action, who, target,
#       outcome, overflow who, overflow target. Returns the source's count this hour.
_REFUSED = """
local source, who, target = ARGV[1], ARGV[8], ARGV[9]
if redis.call('HEXISTS', KEYS[1], source) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  source, who, target = ARGV[2], ARGV[11], ARGV[12]
end
local n = redis.call('HINCRBY', KEYS[1], source, 1)
if n == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  redis.call('XADD', KEYS[2], '*', 'ts', ARGV[6], 'hour', ARGV[5], 'source', source, 'action', ARGV[7],
             'who', who, 'target', target, 'outcome', ARGV[10])
end
return n
"""


def printable(value: str, limit: int = MAX_TEXT) -> str:
    """Outside text fit for a log line or a screen: control and format characters (CR, LF,
    ESC, bidi overrides, ...) written as \\xNN / \\uNNNN escapes, at most `limit` characters."""
    out = []
    for ch in value[:limit]:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or ch == "\\":
            out.append(ch.encode("unicode_escape").decode("ascii") if ch != "\\" else "\\\\")
        else:
            out.append(ch)
    return "".join(out) + ("…" if len(value) > limit else "")


class AuditLog:
    """Aggregated refusals and the retention of the whole audit log (both streams)."""

    def __init__(self, r: redis.Redis, retention_seconds: int) -> None:
        self.r = r
        self.retention = int(retention_seconds)
        self._refused = r.register_script(_REFUSED)

    def refused(self, action: str, who: str, target: str, outcome: str, now: float | None = None) -> int:
        """Count one refusal of (action, who, target, outcome) in this hour; returns the count
        so far (1: this was the hour's first, and an entry was appended)."""
        now = clock.now() if now is None else now
        hour = int(now // HOUR)
        source = json.dumps([action, who, target, outcome])
        overflow = json.dumps([action, OTHERS, OTHERS, outcome])
        return int(
            self._refused(
                keys=[keys.audit_refusal_counts(hour), keys.AUDIT_REFUSALS],
                args=[
                    source,
                    overflow,
                    MAX_SOURCES_PER_HOUR,
                    self.retention + HOUR,
                    hour,
                    clock.iso(now),
                    action,
                    who,
                    target,
                    outcome,
                    OTHERS,
                    OTHERS,
                ],
            )
        )

    def refusals(self, count: int = 20) -> list[dict[str, Any]]:
        """The newest refusal entries, each with its hour's count so far."""
        raw = self.r.xrevrange(keys.AUDIT_REFUSALS, count=count)
        found = [dict({k.decode(): v.decode() for k, v in f.items()}, id=i.decode()) for i, f in raw]
        pipe = self.r.pipeline(transaction=False)
        for e in found:
            pipe.hget(keys.audit_refusal_counts(int(e.get("hour") or 0)), e.get("source", ""))
        out = []
        for e, n in zip(found, pipe.execute() if found else []):
            hour = int(e.pop("hour", 0) or 0)
            e.pop("source", None)
            out.append(dict(e, count=int(n or 1), hour=clock.iso(hour * HOUR)))
        return out

    def trim(self, now: float | None = None) -> int:
        """Drop action and refusal entries older than the retention period; how many went."""
        now = clock.now() if now is None else now
        oldest_ms = max(0, int((now - self.retention) * 1000))
        pipe = self.r.pipeline(transaction=False)
        for stream in (keys.AUDIT, keys.AUDIT_REFUSALS):
            pipe.xtrim(stream, minid=f"{oldest_ms}-0", approximate=False)
        return sum(int(n) for n in pipe.execute())
