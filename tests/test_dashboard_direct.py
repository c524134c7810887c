"""Streams the broadcaster writes itself (webhooks/dashboard/broadcast.Direct): under gunicorn,
a caught-up page's chunks are written by the one reader thread instead of its own thread.

What a sergeant would notice if it went wrong: a missed or doubled row, a garbled stream
(the browser drops it), or a page that stops updating after it was slow to read. So: the
mechanism on a socket pair, then the real gunicorn with a page that stops reading while a
burst goes out, which must still get every event once, in order, in valid HTTP chunks.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from dataclasses import replace

import pytest

from dispatch import events, keys
from tests.support.dashboard import open_request, session_for
from tests.support.gunicorn import start_gunicorn
from webhooks.dashboard import auth, broadcast, stream


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
    data = bytes(buf[start : start + size])
    assert buf[start + size : start + size + 2] == b"\r\n", "a chunk's data must end with CRLF"
    del buf[: start + size + 2]
    return data


def ids_in(text: str) -> list[str]:
    return [line[4:] for line in text.split("\n") if line.startswith("id: ")]


class Window:
    """A connection whose page has room for `size` unread bytes, as a full socket buffer
    leaves: a send that must not block (the reader's) takes at most the room left, a
    blocking one (the stream thread's) waits for the page to read. The room is counted here,
    not by the kernel, whose accounting of a socket's buffer changes from version to version
    (a 4 KB SO_SNDBUF held all of 60 rows on Linux 6.18). `page` is the reading end."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.server, self._page = socket.socketpair()  # far more room than `size`: never blocks
        self.unread = 0
        self.partial = 0  # non-blocking sends that took only the start of what they were given
        self.cond = threading.Condition()
        self.page = self._Page(self)

    class _Page:
        def __init__(self, window: "Window") -> None:
            self.window = window

        def recv(self, n: int) -> bytes:
            data = self.window._page.recv(n)
            with self.window.cond:
                self.window.unread -= len(data)
                self.window.cond.notify_all()
            return data

        def settimeout(self, seconds: float) -> None:
            self.window._page.settimeout(seconds)

    def send(self, data: bytes, flags: int = 0) -> int:
        with self.cond:
            if not flags & broadcast.DONTWAIT:
                self.cond.wait_for(lambda: self.unread < self.size, timeout=30)
            room = self.size - self.unread
            if room <= 0:
                raise BlockingIOError("the page has no room")
            n = min(room, len(data))
            self.partial += n < len(data)
            self.server.sendall(data[:n])
            self.unread += n
            return n

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self.send(view) :]

    def close(self) -> None:
        self.server.close()
        self._page.close()


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
    assert not d.woken.is_set()  # still the reader's
    # The reader records where the stream is after its send returns, so the page may have the
    # chunk first; taking the stream back waits for the reader to be done with it.
    hub.unfollow(d)
    assert d.after == events.last_id(ctx.redis)
    assert hub.direct_streams == 0 and d.woken.is_set()
    server.close()
    page.close()


def test_a_page_too_slow_to_take_a_chunk_is_handed_back_with_the_rest_to_send(hub, app, ctx):
    window = Window(size=100)  # less than any one message: the reader can only start a chunk
    d = broadcast.Direct(window)  # type: ignore[arg-type]
    wait_until(lambda: hub.follow(d, hub.last_id))
    for _ in range(3):  # the page reads nothing meanwhile
        open_request(app)
    wait_until(d.woken.is_set)
    assert hub.direct_streams == 0 and d.pending and not d.gone and window.partial == 1
    # The stream's thread sends the rest (blocking, as gunicorn would) while the page reads:
    # what arrives is whole chunks, ending at the id the stream continues from.
    got: list[str] = []
    window.page.settimeout(5)
    sender = threading.Thread(target=window.sendall, args=(d.pending,))
    sender.start()
    buf = bytearray()
    while not got or ids_in(got[-1])[-1:] != [d.after]:
        got.append(read_chunk(window.page, buf).decode())  # type: ignore[arg-type]
    sender.join(5)
    assert not buf
    sent = [i for t in got for i in ids_in(t)]
    assert len(sent) == len(set(sent)) and sent == sorted(sent, key=broadcast.position)
    window.close()


def test_the_stream_s_thread_finishes_a_chunk_the_reader_could_only_start(hub, app, ctx, r):
    """generate() as gunicorn runs it: what it yields goes out as chunks on the same socket."""
    window = Window(size=100)  # the "connected" chunk, then less than any one message
    start = hub.last_id
    body = stream.generate(hub, r, start, None, lifetime=60.0, heartbeat=30.0, sock=window)  # type: ignore[arg-type]

    def serve() -> None:
        for item in body:
            data = item.encode() if isinstance(item, str) else item
            window.sendall(b"%X\r\n%b\r\n" % (len(data), data))

    threading.Thread(target=serve, daemon=True).start()
    wait_until(lambda: hub.direct_streams == 1)
    for _ in range(20):  # the page reads nothing meanwhile
        open_request(app)
    # The reader could write only the start of a chunk and gave the stream back; its thread
    # waits for the page to make room to send the rest.
    wait_until(lambda: window.partial >= 1 and hub.direct_streams == 0)
    wanted = [e.id for e in events.read(ctx.redis, after=start, count=1000)]
    window.page.settimeout(5)
    buf, text = bytearray(), ""
    while ids_in(text)[-1:] != wanted[-1:]:
        text += read_chunk(window.page, buf).decode()  # type: ignore[arg-type]
    assert ids_in(text) == wanted  # every event once, in order, in whole chunks
    wait_until(lambda: hub.direct_streams == 1)  # caught up again: the reader writes it once more
    late = open_request(app)
    more = ""
    while late.id not in more:
        more += read_chunk(window.page, buf).decode()  # type: ignore[arg-type]
    hub.end_streams()
    window.close()


def test_a_followed_stream_still_ends_within_a_second_or_so_of_its_session(hub, app, ctx, r):
    """The reader writes the messages, but the stream's thread still checks the session as
    often as when it wrote them itself (SESSION_CHECK_SECONDS), not only at heartbeats."""
    sid = "direct-test-session"
    r.hset(keys.dashboard_session(sid), mapping={"username": "viewer"})
    server, page = socket.socketpair()
    body = stream.generate(
        hub, r, hub.last_id, lambda: auth.session_alive(r, sid), lifetime=30.0, heartbeat=10.0, sock=server
    )
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
        open_request(app)  # messages keep flowing: the page is live, the session is not
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


def test_when_the_server_stops_every_stream_ends_at_once(hub, app, r):
    """What the Procfile's gunicorn worker does on SIGTERM or SIGINT (gunicorn_worker.py): a
    stream waiting for its next message and one the reader writes both end now, not at their
    next heartbeat or the end of their life, so they do not keep a stopping worker alive."""
    server, page = socket.socketpair()
    bodies = {
        "followed": stream.generate(hub, r, hub.last_id, None, lifetime=300.0, heartbeat=120.0, sock=server),
        "waiting": stream.generate(hub, r, hub.last_id, None, lifetime=300.0, heartbeat=120.0),
    }
    ended: list[str] = []

    def run(name: str) -> None:
        for item in bodies[name]:
            if name == "followed":
                data = item.encode() if isinstance(item, str) else item
                server.sendall(b"%X\r\n%b\r\n" % (len(data), data))
        ended.append(name)

    for name in bodies:
        threading.Thread(target=run, args=(name,), daemon=True).start()
    wait_until(lambda: hub.direct_streams == 1)
    rec = open_request(app)  # both are live: the page gets it from the reader
    page.settimeout(5)
    buf, text = bytearray(), ""
    while rec.id not in text:
        text += read_chunk(page, buf).decode()
    assert ended == []
    hub.end_streams()
    wait_until(lambda: sorted(ended) == ["followed", "waiting"], timeout=10)
    assert hub.direct_streams == 0
    server.close()
    page.close()


# ------------------------------------------------------------------------------ real gunicorn
@pytest.fixture
def gunicorn_dashboard(settings, app):
    """The Procfile's `dashboard` shape (one process, many threads) on the test's Redis."""
    server = start_gunicorn(
        replace(settings, dashboard_max_streams=8),
        workers=1,
        threads=12,
        env={"LOG_LEVEL": "WARNING"},
        wait_path="/dashboard/signin",
        graceful_timeout=60,
    )
    yield server
    server.stop()


def open_page(app, client, url: str) -> tuple[socket.socket, bytearray]:  # type: ignore[no-untyped-def]
    """A signed-in page with /dashboard/stream open on `url`, past its "connected" chunk;
    a small receive window, so the server sees a slow page."""
    session_for(app, client, "viewer")
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    page = socket.socket()
    page.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # (before the handshake: it sets the window)
    page.settimeout(10)
    host, port = url.rsplit("/", 1)[1].split(":")
    page.connect((host, int(port)))
    page.sendall(
        f"GET /dashboard/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
        f"Cookie: {cookie.key}={cookie.value}\r\n\r\n".encode()
    )
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        buf.extend(page.recv(4096))
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    buf = bytearray(rest)
    assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower()
    assert "connected" in read_chunk(page, buf).decode()
    return page, buf


def test_a_dashboard_process_told_to_stop_ends_its_streams_and_exits(gunicorn_dashboard, app, client):
    """Before, an open page kept a stopping worker alive and listening until gunicorn's graceful
    timeout (60 s here) and `make run` had to kill it: now the stream ends cleanly (the last
    chunk, so the browser reconnects elsewhere) and the process exits long before that."""
    page, buf = open_page(app, client, gunicorn_dashboard.url)
    gunicorn_dashboard.proc.send_signal(signal.SIGTERM)
    while True:
        try:
            chunk = read_chunk(page, buf)
        except (ConnectionError, AssertionError):
            pytest.fail("the stream was cut off instead of ended")
        if chunk == b"":
            break  # the terminating zero-length chunk
    assert gunicorn_dashboard.proc.wait(timeout=20) == 0
    page.close()


def test_under_gunicorn_a_page_that_stops_reading_during_a_burst_still_gets_every_event_once(
    gunicorn_dashboard, app, client, ctx
):
    page, buf = open_page(app, client, gunicorn_dashboard.url)  # a slow, small-windowed page
    start = events.last_id(ctx.redis)
    time.sleep(0.5)  # the stream is caught up: the reader writes it from here on
    opened = [open_request(app, "spa").id for _ in range(300)]  # the page reads none of it yet
    time.sleep(1.0)
    wanted = [e.id for e in events.read(ctx.redis, after=start, count=10000)]
    text = ""
    while ids_in(text)[-1:] != wanted[-1:]:
        text += read_chunk(page, buf).decode()
    got = ids_in(text)
    assert got == wanted  # each once, in order, in well-formed chunks
    assert all(rid in text for rid in opened)
    # Handed back and taken up again: a later change still reaches the page.
    late = open_request(app, "spa").id
    more = ""
    while late not in more:
        more += read_chunk(page, buf).decode()
    page.close()
