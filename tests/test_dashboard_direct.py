"""Streams the broadcaster writes itself (webhooks/dashboard/broadcast.Direct): under gunicorn,
a caught-up page's chunks are written by the one reader thread instead of its own thread.

What a sergeant would notice if it went wrong: a missed or doubled row, a garbled stream
(the browser drops it), or a page that stops updating after it was slow to read. So: the
mechanism on a socket pair, then the real gunicorn with a page that stops reading while a
burst goes out, which must still get every event once, in order, in valid HTTP chunks.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from dispatch import events, keys
from tests.support.dashboard import open_request, session_for
from tests.support.redis_server import free_port
from tests.support.stack import settings_env
from webhooks.dashboard import auth, broadcast, stream

ROOT = Path(__file__).resolve().parents[1]


def read_chunk(sock: socket.socket, buf: bytearray) -> bytes:
    """One HTTP/1.1 chunk's data, checking its framing as a browser does (AssertionError if bad)."""
    def fill(n: int) -> None:
        while len(buf) < n:
            got = sock.recv(65536)
            assert got, "the connection closed in the middle of a chunk"
            buf.extend(got)

    while b"\r\n" not in buf:
        fill(len(buf) + 1)
    line, _, _ = bytes(buf).partition(b"\r\n")
    size = int(line, 16)  # ValueError if the size line is not hex
    start = len(line) + 2
    fill(start + size + 2)
    data = bytes(buf[start:start + size])
    assert buf[start + size:start + size + 2] == b"\r\n", "a chunk's data must end with CRLF"
    del buf[:start + size + 2]
    return data


def ids_in(text: str) -> list[str]:
    return [line[4:] for line in text.split("\n") if line.startswith("id: ")]


@pytest.fixture
def hub(ctx, redis_server):
    h = broadcast.Broadcaster(ctx, redis_server.client(), block_seconds=0.2)
    h.attach()
    yield h
    h.stop()


def wait_until(pred, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_followed_stream_gets_each_batch_as_a_chunk_written_by_the_reader(hub, app, ctx):
    server, page = socket.socketpair()
    d = broadcast.Direct(server)
    wait_until(lambda: hub.follow(d, hub.last_id))
    assert hub.direct_streams == 1
    rec = open_request(app)
    buf = bytearray()
    page.settimeout(5)
    text = read_chunk(page, buf).decode()
    assert rec.id in text and json.loads(text.split("data: ", 1)[1].split("\n", 1)[0])["row"]["id"] == rec.id
    assert ids_in(text) == [events.last_id(ctx.redis)]
    # The reader notes what it wrote just after the send returns: the page may read it first.
    wait_until(lambda: d.after == events.last_id(ctx.redis))
    assert not d.woken.is_set()   # still the reader's
    hub.unfollow(d)
    assert hub.direct_streams == 0 and d.woken.is_set()
    server.close()
    page.close()


def test_a_page_too_slow_to_take_a_chunk_is_handed_back_with_the_rest_to_send(hub, app, ctx):
    server, page = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    page.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    d = broadcast.Direct(server)
    wait_until(lambda: hub.follow(d, hub.last_id))
    for _ in range(60):   # ~60 rows, far more than the two buffers hold; the page reads nothing
        open_request(app)
    wait_until(d.woken.is_set)
    assert hub.direct_streams == 0 and d.pending and not d.gone
    # The stream's thread sends the rest (blocking, as gunicorn would) while the page reads:
    # what arrives is whole chunks, ending at the id the stream continues from.
    got: list[str] = []
    page.settimeout(5)
    sender = threading.Thread(target=server.sendall, args=(d.pending,))
    sender.start()
    buf = bytearray()
    while not got or ids_in(got[-1])[-1:] != [d.after]:
        got.append(read_chunk(page, buf).decode())
    sender.join(5)
    assert not buf
    sent = [i for t in got for i in ids_in(t)]
    assert len(sent) == len(set(sent)) and sent == sorted(sent, key=broadcast.position)
    server.close()
    page.close()


def test_the_stream_s_thread_finishes_a_chunk_the_reader_could_only_start(hub, app, ctx, r):
    """generate() as gunicorn runs it: what it yields goes out as chunks on the same socket."""
    server, page = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    page.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    start = hub.last_id
    body = stream.generate(hub, r, start, None, lifetime=6.0, heartbeat=5.0, sock=server)

    def serve() -> None:
        for item in body:
            data = item.encode() if isinstance(item, str) else item
            server.sendall(b"%X\r\n%b\r\n" % (len(data), data))

    threading.Thread(target=serve, daemon=True).start()
    wait_until(lambda: hub.direct_streams == 1)
    handed_back = []
    for _ in range(60):   # far more than the buffers hold; the page reads nothing meanwhile
        open_request(app)
        handed_back.append(hub.direct_streams == 0)
    assert any(handed_back)   # the reader could not finish a chunk and gave the stream back
    wanted = [e.id for e in events.read(ctx.redis, after=start, count=1000)]
    page.settimeout(5)
    buf, text = bytearray(), ""
    while ids_in(text)[-1:] != wanted[-1:]:
        text += read_chunk(page, buf).decode()
    assert ids_in(text) == wanted   # every event once, in order, in whole chunks
    wait_until(lambda: hub.direct_streams == 1)   # caught up again: the reader writes it once more
    late = open_request(app)
    more = ""
    while late.id not in more:
        more += read_chunk(page, buf).decode()
    server.close()
    page.close()


def test_a_followed_stream_still_ends_within_a_second_or_so_of_its_session(hub, app, ctx, r):
    """The reader writes the messages, but the stream's thread still checks the session as
    often as when it wrote them itself (SESSION_CHECK_SECONDS), not only at heartbeats."""
    sid = "direct-test-session"
    r.hset(keys.dashboard_session(sid), mapping={"username": "viewer"})
    server, page = socket.socketpair()
    body = stream.generate(hub, r, hub.last_id, lambda: auth.session_alive(r, sid), lifetime=30.0, heartbeat=10.0, sock=server)
    ended = threading.Event()
    tail: list[bytes] = []

    def serve() -> None:
        for item in body:
            tail.append(item.encode() if isinstance(item, str) else item)
        ended.set()

    threading.Thread(target=serve, daemon=True).start()
    wait_until(lambda: hub.direct_streams == 1)
    open_request(app)
    r.delete(keys.dashboard_session(sid))
    signed_out = time.monotonic()
    while not ended.is_set() and time.monotonic() - signed_out < 5:
        open_request(app)   # messages keep flowing: the page is live, the session is not
        time.sleep(0.1)
    assert ended.is_set() and time.monotonic() - signed_out < 2.5
    assert b"event: signedout" in tail[-1]
    server.close()
    page.close()


def test_a_page_that_closed_is_noticed_and_dropped(hub, app, ctx):
    server, page = socket.socketpair()
    d = broadcast.Direct(server)
    wait_until(lambda: hub.follow(d, hub.last_id))
    page.close()
    open_request(app)
    wait_until(d.woken.is_set)
    assert d.gone and hub.direct_streams == 0
    server.close()


def test_a_stream_that_is_behind_is_not_followed_until_it_has_caught_up(hub, app, ctx):
    server, page = socket.socketpair()
    open_request(app)
    wait_until(lambda: hub.last_id != "0-0" and hub.last_id == events.last_id(ctx.redis))
    assert not hub.follow(broadcast.Direct(server), "0-0")
    assert hub.direct_streams == 0
    server.close()
    page.close()


# ------------------------------------------------------------------------------ real gunicorn
@pytest.fixture
def gunicorn_dashboard(settings, app):
    """The Procfile's `dashboard` shape (one process, many threads) on the test's Redis."""
    port = free_port()
    env = dict(os.environ, **settings_env(replace(settings, dashboard_max_streams=8)),
               PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--threads", "12",
                             "--bind", f"127.0.0.1:{port}", "--timeout", "15", "--graceful-timeout", "1",
                             "wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/dashboard/signin", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                pytest.fail(proc.stderr.read().decode()[-2000:])
            assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_under_gunicorn_a_page_that_stops_reading_during_a_burst_still_gets_every_event_once(
        gunicorn_dashboard, app, client, ctx):
    session_for(app, client, "viewer")
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    page = socket.socket()
    page.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # a slow, small-windowed page (before
    page.settimeout(10)                                          # the handshake: it sets the window)
    page.connect(("127.0.0.1", gunicorn_dashboard))
    page.sendall(f"GET /dashboard/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                 f"Cookie: {cookie.key}={cookie.value}\r\n\r\n".encode())
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        buf.extend(page.recv(4096))
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    buf = bytearray(rest)
    assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower()
    assert "connected" in read_chunk(page, buf).decode()
    start = events.last_id(ctx.redis)
    time.sleep(0.5)   # the stream is caught up: the reader writes it from here on
    opened = [open_request(app, "spa").id for _ in range(300)]   # the page reads none of it yet
    time.sleep(1.0)
    wanted = [e.id for e in events.read(ctx.redis, after=start, count=10000)]
    text = ""
    while ids_in(text)[-1:] != wanted[-1:]:
        text += read_chunk(page, buf).decode()
    got = ids_in(text)
    assert got == wanted   # each once, in order, in well-formed chunks
    assert all(rid in text for rid in opened)
    # Handed back and taken up again: a later change still reaches the page.
    late = open_request(app, "spa").id
    more = ""
    while late not in more:
        more += read_chunk(page, buf).decode()
    page.close()
