"""GET /dashboard/stream: the request and liaison events as server-sent events.

Each message carries what changed as the page draws it: the request's queue row (or the
liaison's row, or the newest audit entries), shaped once per process by the broadcaster
(broadcast.py, which reads the events stream for every stream of the process), so a page
applies it in place instead of re-reading the whole snapshot.

- Resumable: the SSE `id` is the Redis stream id; a reconnecting EventSource sends it
  back as Last-Event-ID (or the page passes `?last=`), and delivery resumes after it
  (from the broadcaster's ring, or read from Redis first when it is older than the ring).
- Alive: after HEARTBEAT seconds without a message a comment line goes out (": keepalive",
  or ": store unavailable" while the broadcaster cannot reach Redis), so proxies and the
  browser see traffic and a dead connection is noticed.
- Bounded: a response ends after LIFETIME seconds, or when the session has expired or the
  API token was revoked (checked at most once a SESSION_CHECK interval, and at every
  heartbeat), or at once when the server stops (broadcast.end_streams), so a thread is never
  held forever; `retry:` tells the browser to reconnect at once.
  At most DASHBOARD_MAX_STREAMS streams per process hold a thread at a time: the
  Procfile's `dashboard` process holds many, the `web` processes none (their few threads
  are for Twilio's webhooks). Past the cap the answer is 503 with Retry-After and the
  page polls meanwhile.
- Cheap to fan out: under gunicorn, while a stream is caught up the broadcaster's reader
  writes its chunks itself (`direct_socket`, broadcast.Direct) and the stream's thread
  sleeps; elsewhere (another server, TLS in gunicorn) the thread writes them as before.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator

import redis
from flask import Response, current_app, g, jsonify, request

from dispatch import events
from dispatch.redis_conn import connect
from webhooks.dashboard import bp, broadcast
from webhooks.dashboard.auth import reader, still_signed_in
from webhooks.deps import ctx

HEARTBEAT_SECONDS = 10.0
LIFETIME_SECONDS = 120.0
SESSION_CHECK_SECONDS = 1.0  # while messages flow, ask Redis whether the session lives at most this often
RETRY_MS = 1000
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
        slots = threading.BoundedSemaphore(int(current_app.config["DASHBOARD_MAX_STREAMS"]))
        slots = current_app.extensions.setdefault("dashboard_stream_slots", slots)
    return slots


def start_position(r: redis.Redis) -> str:
    """Where to read from: after the client's last event id, else from now."""
    sent = request.headers.get("Last-Event-ID") or request.args.get("last", "")
    if _STREAM_ID.fullmatch(sent):
        return sent
    newest = events.last_id(r)
    return newest if newest != "0" else "0-0"


def direct_socket() -> socket.socket | None:
    """The connection's socket, if the broadcaster may write this response's chunks itself:
    gunicorn's plain socket (not TLS) under HTTP/1.1, whose streamed responses are chunked,
    where a send can be told not to block."""
    sock = request.environ.get("gunicorn.socket")
    if (
        type(sock) is not socket.socket
        or request.environ.get("SERVER_PROTOCOL") != "HTTP/1.1"
        or not broadcast.DONTWAIT
    ):
        return None
    return sock


def generate(
    hub: broadcast.Broadcaster,
    r: redis.Redis,
    after: str,
    alive: Callable[[], bool] | None,
    lifetime: float,
    heartbeat: float,
    sock: socket.socket | None = None,
) -> Iterator[str]:
    """The response body: events after `after` until `lifetime` passes or `alive()` (the
    session, the API token; None: not checked) turns false.

    Everything new since this stream's last id goes out as one chunk: in a surge the
    per-message writes (a syscall and a GIL hand-off each, for every open stream) made
    the streams fall behind. With `sock` (direct_socket), while the stream is caught up
    the broadcaster writes its chunks itself and this thread only sleeps until its next
    heartbeat or session check, or until the broadcaster hands it back. The caller has
    attached the stream to `hub`.
    """
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    now = time.monotonic()
    deadline, next_beat = now + lifetime, now + heartbeat
    check_every = min(heartbeat, SESSION_CHECK_SECONDS)
    # The session is checked at once, then after a message or a heartbeat went out, at most
    # once per check_every: a quiet stream asks Redis once a heartbeat, a busy one once a second.
    next_check, due = now, True
    direct = broadcast.Direct(sock) if sock is not None else None
    while True:
        now = time.monotonic()
        if now >= deadline or hub.ending:
            return
        if alive is not None and due and now >= next_check:
            next_check, due = now + check_every, False
            try:
                signed_in = alive()
            except redis.RedisError:
                signed_in = True  # the store is down, not the session: keep waiting for it
            if not signed_in:
                yield "event: signedout\ndata: {}\n\n"
                return
        wake = min(deadline, next_beat, next_check if due and alive is not None else deadline)
        text: str | bytes = ""
        unreachable = wrote = False
        if direct is not None and hub.follow(direct, after):
            # Messages go out without this thread: wake each check_every to see whether any
            # did, so that the session is still checked as often as when it writes them.
            direct.woken.wait(max(0.0, min(wake, now + check_every) - now))
            hub.unfollow(direct)
            after, wrote = direct.after, direct.wrote
            if direct.pending:
                try:
                    direct.sock.sendall(direct.pending)  # the rest of a chunk the page was slow to take
                except OSError:
                    return
            if direct.gone:
                return
        else:
            try:
                got = hub.wait(after, wake - now)
                if got is not None:
                    text, after = got
            except broadcast.Behind:
                try:
                    text, after = hub.catch_up(after)
                except redis.RedisError:
                    unreachable = True
                    time.sleep(max(0.0, min(1.0, wake - time.monotonic())))
        now = time.monotonic()
        if text:
            due = True
            yield text
            next_beat = time.monotonic() + heartbeat
        elif wrote:
            due = True
            next_beat = now + heartbeat
        elif now >= next_beat:
            due = True
            yield ": store unavailable\n\n" if unreachable or hub.failing else ": keepalive\n\n"
            next_beat = time.monotonic() + heartbeat


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
        c = ctx()
        hub = broadcast.for_app(
            current_app.extensions,
            c,
            lambda: _blocking_client(heartbeat),
            block_seconds=min(heartbeat, broadcast.BLOCK_SECONDS),
        )
        after = start_position(c.redis)
        hub.attach()
    except Exception:
        slots.release()
        raise
    user = g.user
    resp = Response(
        generate(hub, c.redis, after, lambda: still_signed_in(c.redis, user), lifetime, heartbeat, direct_socket()),
        mimetype="text/event-stream",
    )
    # When the server closes the response, however it ended (even before it started).
    resp.call_on_close(hub.detach)
    resp.call_on_close(slots.release)
    resp.headers["Cache-Control"] = "no-cache, no-store"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return resp
