"""One reader of the events stream per web process, fanned out to every open dashboard stream.

Each stream used to do its own XREAD BLOCK and format its own messages, and each page then
re-read the whole snapshot: with 50 pages in a surge that starved the phone webhooks sharing
the process's threads. Now one daemon thread per process reads the events (its own blocking
Redis client), reads the rows those events changed once per batch (snapshot.changes: the
same view models the snapshot draws), formats each SSE message once, and keeps the newest
in a bounded ring. Streams wait on a Condition and write everything after their own last
id as one chunk (the newest batch joined and encoded once, for the streams that are caught
up). After a batch the reader lets events gather for GATHER_SECONDS, so in a surge every
stream wakes at most ~20 times a second.

- Under gunicorn, a caught-up stream hands its socket to the reader (`follow`), which then
  writes every batch to it itself, never blocking (MSG_DONTWAIT), framed as the chunks
  gunicorn would send: one thread writing 50 sockets costs about a seventh of the CPU of
  50 threads each woken to write their own (0.5 against 3.9 ms per batch, measured), and
  on a small host that CPU is the officers' webhooks'. The stream's own thread sleeps until
  its heartbeat or session check, or until the reader hands the stream back: the socket
  took only part of a chunk (the thread sends the rest, blocking as gunicorn would), the
  stream fell behind the ring, or the page has gone.
- Started lazily by the first stream; fork-safe: a broadcaster remembers the pid it was built
  in, and a forked child builds its own (threads and locks do not survive a fork).
- Survives Redis errors: the reader backs off (up to BACKOFF_MAX seconds) and carries on from
  its last id; `failing` tells streams to say so in their heartbeat comment.
- A stream resuming from before the ring's floor (an old Last-Event-ID, or one that fell
  behind) catches up with direct reads from Redis (`catch_up`, shaped for that stream
  alone), then joins the ring.
- Stops itself after IDLE_SECONDS with no stream attached; the next stream starts it again
  from the newest event (older positions catch up as above).
- Ends every stream of the process at once when the server stops (`end_streams`, called by
  the Procfile's gunicorn worker on SIGTERM/SIGINT): a stream would otherwise hold its worker
  alive, still listening, until its lifetime ran out.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import weakref
from bisect import bisect_right
from collections.abc import Callable

import redis

from dispatch import events, pin_guard
from dispatch.context import Context
from webhooks.dashboard import snapshot

log = logging.getLogger("webhooks.dashboard")

RING_SIZE = 4096  # messages kept per process (~40 s of a 1,000-request surge)
READ_COUNT = 200  # events per XREAD: a burst goes out in slices (the first ones sooner)
BLOCK_SECONDS = 5.0  # longest XREAD BLOCK: how soon an idle reader notices it should stop
GATHER_SECONDS = 0.025  # after a batch, let events gather this long: at most ~40 wake-ups of every
# stream a second in a surge (each costs every stream thread a GIL hand-off
# and a write), for at most this much more latency; the first event after a
# quiet spell still goes out at once
BACKOFF_MAX = 5.0  # seconds between retries while Redis is unreachable
IDLE_SECONDS = 60.0  # stop the reader after this long with no stream attached

Position = tuple[int, int]
DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


def position(stream_id: str) -> Position:
    """A Redis stream id ("ms-seq") as something that compares in stream order."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def message(event: events.Event, found: snapshot.Changes) -> str:
    """One SSE message: the id to resume from, what happened, and the rows it changed.

    `row` (a request event) is the request's queue row as the snapshot shapes it, or null
    when the record is gone; `finished` says it belongs in "recently finished". `liaison`
    is a liaison row, `audit` the newest audit entries, `alert` an alert as the snapshot's
    `alerts` list it (the event carries it whole). A message with none of them is one the
    page cannot apply, so it re-reads the snapshot.
    """
    data: dict[str, object] = {"request": event.request, "event": event.event, "to": event.target}
    if event.request:
        data["row"] = found.requests.get(event.request)
        data["finished"] = event.request in found.finished
    liaison = event.data.get("liaison")
    if isinstance(liaison, str) and liaison in found.liaisons:
        data["liaison"] = found.liaisons[liaison]
    if event.event == "audit" and found.audit is not None:
        data["audit"] = found.audit
    if event.event == pin_guard.EVENT:
        data["alert"] = event.data
    return f"id: {event.id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def format_batch(c: Context, batch: list[events.Event]) -> list[str]:
    """The batch's messages, after one read of everything they changed (raises RedisError)."""
    liaisons = [e.data["liaison"] for e in batch if isinstance(e.data.get("liaison"), str)]
    found = snapshot.changes(
        c, (e.request for e in batch if e.request), liaisons, with_audit=any(e.event == "audit" for e in batch)
    )
    return [message(e, found) for e in batch]


def bare(event: events.Event) -> str:
    """A message without rows (the page re-reads the snapshot): used if shaping fails."""
    data = {"request": event.request, "event": event.event, "to": event.target}
    return f"id: {event.id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class Direct:
    """A stream whose socket the reader writes to itself while it is caught up.

    Only for a plain (not TLS) HTTP/1.1 chunked response on a blocking socket, as
    gunicorn's are: the frames written here are the chunks gunicorn would write.
    `lock` is held while the reader writes; the stream's thread takes it to take over.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.woken = threading.Event()  # the reader handed the stream back
        self.after = "0-0"  # the last event id written (by either side)
        self.pending = b""  # the rest of a chunk the socket did not take
        self.gone = False  # the page closed the connection
        self.wrote = False  # messages went out since the thread last looked


class Behind(Exception):
    """The stream's position is older than the ring holds: catch up from Redis first."""


class Broadcaster:
    """The per-process reader and its ring of formatted messages."""

    def __init__(
        self,
        c: Context,
        blocking: redis.Redis,
        block_seconds: float = BLOCK_SECONDS,
        ring_size: int = RING_SIZE,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.c = c
        self.blocking = blocking
        self.block_ms = max(1, int(block_seconds * 1000))
        self.ring_size = ring_size
        self.idle_seconds = idle_seconds
        self.pid = os.getpid()
        self.cond = threading.Condition()
        self._ids: list[Position] = []  # ring, oldest first, in step with _texts
        self._raw: list[str] = []
        self._texts: list[str] = []
        self._floor: Position = (0, 0)  # the ring holds every event after this ...
        self.last_id = "0-0"  # ... up to this: where the reader is
        self._batch = b""  # the newest batch as one encoded chunk ...
        self._batch_after: Position = (0, 0)  # ... for streams that had everything up to this
        self.failing = False  # the last read from Redis failed
        self.followers = 0
        self._direct: set[Direct] = set()  # streams the reader writes itself
        self._idle_since = time.monotonic()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.ending = False  # the server is stopping: streams end at their next wake
        _hubs.add(self)

    # ------------------------------------------------------------------ lifecycle
    def attach(self) -> None:
        """A stream joins: start the reader if it is not running (raises RedisError if the
        store cannot even say where its events end)."""
        with self.cond:
            self.followers += 1
            if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
                return
        try:
            newest = events.last_id(self.c.redis)
        except Exception:
            self.detach()
            raise
        with self.cond:
            if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
                return  # another stream started it meanwhile
            start = newest if newest != "0" else "0-0"
            self._ids, self._raw, self._texts, self._batch = [], [], [], b""
            self._floor, self.last_id = position(start), start
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(start, self._stop), daemon=True, name="dashboard-broadcast"
            )
            self._thread.start()

    def detach(self) -> None:
        with self.cond:
            self.followers -= 1
            if self.followers <= 0:
                self.followers = 0
                self._idle_since = time.monotonic()

    def stop(self) -> None:
        """End the reader (tests; a process shutting down need not call it)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.block_ms / 1000 + 2)

    def end_streams(self) -> None:
        """Every stream of this broadcaster ends now: waiting ones are woken, followed ones are
        handed back to their threads, and each sees `ending` and returns. Safe in a signal
        handler (the main thread never holds these locks)."""
        with self.cond:
            self.ending = True
            followed = list(self._direct)
            self._direct.clear()
            self.cond.notify_all()
        for d in followed:
            d.woken.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    # ------------------------------------------------------------------ the reader
    def _run(self, after: str, stop: threading.Event) -> None:
        delay = 0.1
        while not stop.is_set():
            with self.cond:
                if self.followers == 0 and time.monotonic() - self._idle_since > self.idle_seconds:
                    stop.set()  # attach() sees this and starts a fresh reader
                    return
            try:
                batch = events.read(self.blocking, after=after, block_ms=self.block_ms, count=READ_COUNT)
                texts = self._format(batch) if batch else []
            except redis.RedisError as exc:
                if not self.failing:
                    log.warning("dashboard broadcast: Redis unavailable (%s); retrying", type(exc).__name__)
                with self.cond:
                    self.failing = True
                    self.cond.notify_all()
                stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            except Exception:  # a bug must not silence every dashboard of the process
                log.exception("dashboard broadcast: reading events failed")
                stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            delay = 0.1
            direct: list[Direct] = []
            with self.cond:
                if stop.is_set():
                    return  # stopped while reading: a newer reader may own the ring now
                if self.failing:
                    log.info("dashboard broadcast: Redis is back")
                self.failing = False
                if batch:
                    self._append(batch, texts)
                    self.cond.notify_all()
                    direct = list(self._direct)
            if batch:
                if direct:
                    self._write_direct(direct)
                after = batch[-1].id
                if len(batch) < READ_COUNT:
                    stop.wait(GATHER_SECONDS)

    def _format(self, batch: list[events.Event]) -> list[str]:
        """Messages with rows; ids only if shaping them fails for any reason but the store."""
        try:
            return format_batch(self.c, batch)
        except redis.RedisError:
            raise  # read the batch again once the store is back
        except Exception:
            log.exception("dashboard broadcast: shaping rows failed; sending ids only")
            return [bare(e) for e in batch]

    def _append(self, batch: list[events.Event], texts: list[str]) -> None:
        # Most streams are caught up and want exactly this batch: join and encode it once.
        self._batch_after, self._batch = self._ids[-1] if self._ids else self._floor, "".join(texts).encode()
        self._ids.extend(position(e.id) for e in batch)
        self._raw.extend(e.id for e in batch)
        self._texts.extend(texts)
        self.last_id = batch[-1].id
        extra = len(self._ids) - self.ring_size
        if extra > 0:
            self._floor = self._ids[extra - 1]
            del self._ids[:extra], self._raw[:extra], self._texts[:extra]

    # ------------------------------------------------------------------ streams the reader writes
    def _write_direct(self, streams: list[Direct]) -> None:
        """Each followed stream's new messages as one chunk, written without blocking. Runs in
        the reader's thread, the only one that changes the ring, so it reads it unlocked."""
        for d in streams:
            if not d.lock.acquire(blocking=False):
                continue  # its thread is taking it back: it reads from the ring itself
            try:
                if d.woken.is_set():
                    continue
                at = position(d.after)
                if at < self._floor:
                    self._hand_back(d)  # behind the ring: its thread catches up from Redis
                    continue
                i = bisect_right(self._ids, at)
                if i == len(self._ids):
                    continue
                data = self._batch if at == self._batch_after and self._batch else "".join(self._texts[i:]).encode()
                frame = b"%X\r\n%b\r\n" % (len(data), data)
                try:
                    sent = d.sock.send(frame, DONTWAIT)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    d.gone = True
                    self._hand_back(d)
                    continue
                d.after, d.wrote = self._raw[-1], True
                if sent < len(frame):
                    d.pending = frame[sent:]  # a slow page: its thread sends the rest, blocking
                    self._hand_back(d)
            finally:
                d.lock.release()

    def _hand_back(self, d: Direct) -> None:
        with self.cond:
            self._direct.discard(d)
        d.woken.set()

    def follow(self, d: Direct, after: str) -> bool:
        """The reader writes this stream from now on, if it has every event so far (else
        False: the caller sends what it lacks first)."""
        with self.cond:
            if position(after) < position(self.last_id) or not self.running or self.ending:
                return False
            d.after, d.pending, d.wrote, d.gone = after, b"", False, False
            d.woken.clear()
            self._direct.add(d)
            return True

    def unfollow(self, d: Direct) -> None:
        """The stream's thread takes its socket back (d.after, d.pending and d.gone say where it is)."""
        with d.lock:
            with self.cond:
                self._direct.discard(d)
            d.woken.set()

    @property
    def direct_streams(self) -> int:
        return len(self._direct)

    # ------------------------------------------------------------------ for the streams
    def wait(self, after: str, timeout: float) -> tuple[str | bytes, str] | None:
        """Everything after `after` as one chunk and its last id, waiting up to `timeout` for
        it; None if nothing came. Raises Behind when `after` is older than the ring holds."""
        at = position(after)
        with self.cond:
            if at < self._floor:
                raise Behind(after)
            i = bisect_right(self._ids, at)
            if i == len(self._ids):
                if self.ending:
                    return None  # the server is stopping: the stream ends instead of waiting
                self.cond.wait(max(0.0, timeout))
                if at < self._floor:
                    raise Behind(after)
                i = bisect_right(self._ids, at)
                if i == len(self._ids):
                    return None
            if at == self._batch_after and self._batch:
                return self._batch, self._raw[-1]
            return "".join(self._texts[i:]), self._raw[-1]

    def catch_up(self, after: str) -> tuple[str, str]:
        """The next events after `after` (older than the ring's floor) read from Redis and shaped
        for this stream alone, up to what the ring already holds; returns the chunk ("" if none)
        and the id to continue from. Nothing left in Redis up to the ring's newest event means
        nothing was missed: continue from the ring's newest."""
        with self.cond:
            newest = self.last_id
        upto = position(newest)
        batch = [e for e in events.read(self.c.redis, after=after, count=READ_COUNT) if position(e.id) <= upto]
        if not batch:
            return "", newest if upto > position(after) else after
        return "".join(self._format(batch)), batch[-1].id


_lock = threading.Lock()
_hubs: weakref.WeakSet[Broadcaster] = weakref.WeakSet()


def end_streams() -> None:
    """The server is stopping: end every dashboard stream of this process."""
    for hub in list(_hubs):
        hub.end_streams()


def _fresh_lock() -> None:
    global _lock
    _lock = threading.Lock()  # a child must not inherit a lock some parent thread held at fork


os.register_at_fork(after_in_child=_fresh_lock)


def for_app(extensions: dict, c: Context, blocking: Callable[[], redis.Redis], block_seconds: float) -> Broadcaster:
    """This process's broadcaster for the app, built on first use (again in a forked child)."""
    found = extensions.get("dashboard_broadcaster")
    if found is not None and found.pid == os.getpid():
        return found
    with _lock:
        found = extensions.get("dashboard_broadcaster")
        if found is None or found.pid != os.getpid():
            found = Broadcaster(c, blocking(), block_seconds=block_seconds)
            extensions["dashboard_broadcaster"] = found
    return found
