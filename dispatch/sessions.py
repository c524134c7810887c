"""Dashboard sessions on Redis: the browser's cookie carries only a random id; the session (who
signed in, the CSRF token) is a hash here whose TTL is the idle timeout.

So every web process agrees on a session, signing out really ends it everywhere, and an idle
session simply expires. Renewing the TTL (`touch`) is the caller's decision: people's activity
renews it, a page's background reads and the event stream do not.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import redis

from dispatch import clock, keys


@dataclass(frozen=True)
class Session:
    id: str
    username: str
    csrf: str


class Sessions:
    def __init__(self, r: redis.Redis, idle_seconds: int) -> None:
        self.r = r
        self.idle_seconds = max(60, idle_seconds)

    def start(self, username: str, replaces: str = "") -> Session:
        """A fresh session id and CSRF token for `username` (new at every sign-in: no fixation);
        the session `replaces` (this browser's previous one) ends."""
        started = Session(secrets.token_urlsafe(32), username, secrets.token_urlsafe(32))
        key = keys.dashboard_session(started.id)
        pipe = self.r.pipeline()
        if replaces:
            pipe.delete(keys.dashboard_session(replaces))
        pipe.hset(key, mapping={"username": username, "csrf": started.csrf, "created": repr(clock.now())})
        pipe.expire(key, self.idle_seconds)
        pipe.execute()
        return started

    def get(self, session_id: str) -> Session | None:
        """The live session of that id; None if it expired or was ended."""
        raw = self.r.hgetall(keys.dashboard_session(session_id))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        if not fields:
            return None
        return Session(session_id, fields.get("username", ""), fields.get("csrf", ""))

    def touch(self, session_id: str) -> None:
        """A person's activity: the idle timeout starts again."""
        self.r.expire(keys.dashboard_session(session_id), self.idle_seconds)

    def end(self, session_id: str) -> None:
        self.r.delete(keys.dashboard_session(session_id))

    def alive(self, session_id: str) -> bool:
        """Still signed in? (The event stream asks this between reads, without a request.)"""
        return bool(self.r.exists(keys.dashboard_session(session_id)))

    def ids(self) -> list[str]:
        """Every live session's id (for operators and tests)."""
        prefix = keys.dashboard_session("")
        return [_text(k)[len(prefix) :] for k in self.r.scan_iter(keys.dashboard_session("*"))]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
