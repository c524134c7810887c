"""The per-process request gate (webhooks/app.RequestGate): webhooks share gunicorn's threads
with long-lived dashboard streams, but no more than REQUEST_CONCURRENCY compute at once."""

from __future__ import annotations

import threading
import time

from webhooks.app import RequestGate


class _Counting:
    """A WSGI app that records how many requests are inside it at once."""

    def __init__(self, hold: float):
        self.hold = hold
        self.lock = threading.Lock()
        self.inside = 0
        self.most = 0

    def __call__(self, environ, start_response):
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(self.hold)
        with self.lock:
            self.inside -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def _run(gate, paths):
    bodies = []
    threads = [
        threading.Thread(target=lambda p=p: bodies.append(b"".join(gate({"PATH_INFO": p}, lambda *a: None))))
        for p in paths
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    return bodies


def test_no_more_than_the_limit_compute_at_once_and_every_request_is_answered():
    app = _Counting(hold=0.05)
    bodies = _run(RequestGate(app, 2, exempt=("/dashboard/stream",)), ["/voice/incoming"] * 8)
    assert bodies == [b"ok"] * 8
    assert app.most == 2


def test_event_streams_do_not_take_a_webhooks_place():
    app = _Counting(hold=0.2)
    gate = RequestGate(app, 1, exempt=("/dashboard/stream",))
    streams = [
        threading.Thread(target=lambda: b"".join(gate({"PATH_INFO": "/dashboard/stream"}, lambda *a: None)))
        for _ in range(3)
    ]
    for t in streams:
        t.start()
    started = time.monotonic()
    assert _run(gate, ["/voice/incoming"]) == [b"ok"]
    assert time.monotonic() - started < 0.35, "the webhook did not wait for the streams"
    assert app.most == 4
    for t in streams:
        t.join(5)


def test_dashboard_reads_have_their_own_slots_so_webhooks_never_wait_behind_them():
    app = _Counting(hold=0.3)
    gate = RequestGate(app, 2, exempt=("/dashboard/stream",), side=("/dashboard/",), side_limit=1)
    reads = [
        threading.Thread(target=lambda: b"".join(gate({"PATH_INFO": "/dashboard/api/snapshot"}, lambda *a: None)))
        for _ in range(4)
    ]
    for t in reads:
        t.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert _run(gate, ["/voice/incoming", "/voice/incoming/language"]) == [b"ok", b"ok"]
    assert time.monotonic() - started < 0.55, "the webhooks got their slots at once"
    assert app.most == 3, "one dashboard read and the two webhooks at most"
    for t in reads:
        t.join(5)
