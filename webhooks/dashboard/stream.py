"""GET /dashboard/stream: the request and liaison events as server-sent events.

The page only needs to know *that* something changed (it then re-reads the JSON
snapshot), so each message carries the stream id and a few ids, never record fields.

- Resumable: the SSE `id` is the Redis stream id; a reconnecting EventSource sends it
  back as Last-Event-ID (or the page passes `?last=`), and reading resumes after it.
- Alive: XREAD BLOCK waits at most HEARTBEAT seconds, then a comment line goes out, so
  proxies and the browser see traffic and a dead connection is noticed.
- Bounded: a response ends after LIFETIME seconds (or when the session has expired),
  so a thread is never held forever; `retry:` tells the browser to reconnect at once.
  At most MAX_STREAMS streams per process hold a thread at a time (the same threads
  answer Twilio's webhooks); past that the answer is 503 and the page polls meanwhile.
The blocking read uses its own Redis client: the app's has a short socket timeout.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator

import redis
from flask import Response, current_app, g, jsonify, request

from dispatch import events
from dispatch.redis_conn import connect
from webhooks.dashboard import bp
from webhooks.dashboard.auth import reader, session_alive
from webhooks.deps import ctx

HEARTBEAT_SECONDS = 10.0
LIFETIME_SECONDS = 120.0
RETRY_MS = 1000
MAX_STREAMS = 4
_STREAM_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")


def _blocking_client(heartbeat: float) -> redis.Redis:
    """One client (a pool) per app for blocking reads, with a timeout above the block time."""
    client = current_app.extensions.get("dashboard_stream_redis")
    if client is None:
        s = ctx().settings
        client = connect(s.redis_url, s.redis_sentinels, s.redis_sentinel_master, socket_timeout=heartbeat + 5)
        current_app.extensions["dashboard_stream_redis"] = client
    return client


def _slots() -> threading.BoundedSemaphore:
    slots = current_app.extensions.get("dashboard_stream_slots")
    if slots is None:
        slots = threading.BoundedSemaphore(int(current_app.config.get("DASHBOARD_MAX_STREAMS", MAX_STREAMS)))
        slots = current_app.extensions.setdefault("dashboard_stream_slots", slots)
    return slots


def start_position(r: redis.Redis) -> str:
    """Where to read from: after the client's last event id, else from now."""
    sent = request.headers.get("Last-Event-ID") or request.args.get("last", "")
    if _STREAM_ID.fullmatch(sent):
        return sent
    newest = events.last_id(r)
    return newest if newest != "0" else "0-0"


def message(event: events.Event) -> str:
    """One SSE message: the id to resume from and what changed (ids only)."""
    data = {"request": event.request, "event": event.event, "to": event.target}
    liaison = event.data.get("liaison")
    if isinstance(liaison, str):
        data["liaison"] = liaison
    return f"id: {event.id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def generate(r: redis.Redis, after: str, session_id: str, lifetime: float, heartbeat: float) -> Iterator[str]:
    """The response body: events after `after` until `lifetime` passes or the session ends."""
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    deadline = time.monotonic() + lifetime
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            if session_id and not session_alive(r, session_id):
                yield "event: signedout\ndata: {}\n\n"
                return
            batch = events.read(r, after=after, block_ms=max(1, int(min(heartbeat, remaining) * 1000)))
        except redis.RedisError:
            yield ": store unavailable, reconnect\n\n"
            return
        if not batch:
            yield ": keepalive\n\n"
            continue
        after = batch[-1].id
        # One write per batch, not per event: in a surge the per-message writes (a syscall
        # and a GIL hand-off each, for every open stream) made the streams fall behind.
        yield "".join(message(event) for event in batch)


@bp.get("/stream")
@reader
def stream() -> Response:
    heartbeat = float(current_app.config.get("DASHBOARD_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    lifetime = float(current_app.config.get("DASHBOARD_STREAM_SECONDS", LIFETIME_SECONDS))
    slots = _slots()
    if not slots.acquire(blocking=False):
        busy = jsonify(error="too many live connections to this server; polling instead")
        busy.status_code = 503
        busy.headers["Retry-After"] = "5"
        return busy
    try:
        r = _blocking_client(heartbeat)
        body = generate(r, start_position(r), g.user.session_id, lifetime, heartbeat)
    except Exception:
        slots.release()
        raise
    resp = Response(body, mimetype="text/event-stream")
    resp.call_on_close(slots.release)  # when the server closes the response, however it ended
    resp.headers["Cache-Control"] = "no-cache, no-store"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return resp
