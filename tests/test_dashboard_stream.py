"""The server-sent event stream: live delivery with the changed rows, resume, heartbeats,
bounded life, sign-out, the per-process cap."""

from __future__ import annotations

import json
import threading
import time

import pytest

from dispatch import events, keys
from tests.support.dashboard import open_request, session_for


@pytest.fixture
def fast_stream(app):
    app.config.update(DASHBOARD_HEARTBEAT_SECONDS=0.3, DASHBOARD_STREAM_SECONDS=3.0)
    yield app
    hub = app.extensions.get("dashboard_broadcaster")
    if hub is not None:
        hub.stop()  # the process's reader thread outlives a test's app otherwise


def parse(chunks: list[str]) -> list[dict[str, str]]:
    """SSE text → messages (comments dropped, like a browser does)."""
    out = []
    for block in "".join(chunks).split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.lstrip(" ")
        if "data" in fields:
            out.append(fields)
    return out


class Reader:
    """Reads a streaming response in the background, so a test can publish meanwhile."""

    def __init__(self, resp):  # type: ignore[no-untyped-def]
        self.resp = resp
        self.chunks: list[str] = []
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            for chunk in self.resp.response:
                self.chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
        finally:
            self.done.set()

    def wait_for(self, pred, timeout: float = 3.0):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self.text):
                return self.text
            time.sleep(0.02)
        raise AssertionError(f"stream did not show it within {timeout}s: {self.text!r}")

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def connect(client, **headers: str) -> Reader:  # type: ignore[no-untyped-def]
    resp = client.get("/dashboard/stream", headers=headers, buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"].startswith("no-cache")
    return Reader(resp)


def test_an_event_published_after_connecting_arrives_with_its_row(fast_stream, ctx, client):
    session_for(fast_stream, client, "viewer")
    reader = connect(client)
    reader.wait_for(lambda t: "retry:" in t)
    rec = open_request(fast_stream, "spa")  # the create transition publishes on the stream
    text = reader.wait_for(lambda t: rec.id in t)
    message = parse([text])[0]
    data = json.loads(message["data"])
    assert (data["request"], data["event"], data["to"], data["finished"]) == (rec.id, "created", "queued", False)
    assert message["id"] == events.last_id(ctx.redis)
    # The row is the one the snapshot's queue shows for it, masked caller included.
    snap_row = client.get("/dashboard/api/queue").get_json()["active"][0]
    assert {k: v for k, v in data["row"].items() if k != "wait_seconds"} == {
        k: v for k, v in snap_row.items() if k != "wait_seconds"
    }
    assert data["row"]["state_label"] == "Waiting" and data["row"]["language"] == "Spanish"
    assert ctx.roster.precincts[0].lines[0][2:] not in text  # no full caller number on the wire


def test_reconnecting_with_last_event_id_resumes_after_it(fast_stream, ctx, client):
    session_for(fast_stream, client, "viewer")
    liaisons = [l.id for l in ctx.roster.liaisons[:3]]
    for lid in liaisons:
        ctx.liaisons.set_duty(lid, False)  # publishes liaison_duty
    ids = [e.id for e in events.read(ctx.redis, after="0")]
    reader = connect(client, **{"Last-Event-ID": ids[0]})
    text = reader.wait_for(lambda t: ids[2] in t)
    got = parse([text])
    assert [m["id"] for m in got] == ids[1:]
    rows = [json.loads(m["data"])["liaison"] for m in got]
    assert [(r["id"], r["state"], r["duty_override"]) for r in rows] == [(lid, "off", "off") for lid in liaisons[1:]]


def test_the_page_can_pass_its_position_in_the_query(fast_stream, ctx, client):
    session_for(fast_stream, client, "viewer")
    events.publish(ctx.redis, "a", {})
    first = events.last_id(ctx.redis)
    events.publish(ctx.redis, "b", {})
    resp = client.get(f"/dashboard/stream?last={first}", buffered=False)
    text = Reader(resp).wait_for(lambda t: "id:" in t)
    assert [json.loads(m["data"])["event"] for m in parse([text])] == ["b"]
    assert set(json.loads(parse([text])[0]["data"])) == {"request", "event", "to"}  # nothing to draw: ids only


def test_a_fresh_connection_starts_from_now_not_from_history(fast_stream, ctx, client):
    session_for(fast_stream, client, "viewer")
    events.publish(ctx.redis, "old", {})
    reader = connect(client, **{"Last-Event-ID": "not-an-id"})
    reader.wait_for(lambda t: ": keepalive" in t)
    events.publish(ctx.redis, "new", {})
    text = reader.wait_for(lambda t: "new" in t)
    assert [json.loads(m["data"])["event"] for m in parse([text])] == ["new"]


def test_heartbeats_keep_a_quiet_stream_alive_and_it_ends_in_bounded_time(fast_stream, client):
    session_for(fast_stream, client, "viewer")
    started = time.monotonic()
    reader = connect(client)
    assert reader.done.wait(6), "the response ends after DASHBOARD_STREAM_SECONDS"
    assert 2.5 <= time.monotonic() - started < 6
    assert reader.text.startswith("retry: 1000\n")
    assert reader.text.count(": keepalive") >= 5  # every 0.3 s for 3 s


def test_the_stream_ends_when_the_session_does(fast_stream, ctx, client):
    session_for(fast_stream, client, "viewer")
    reader = connect(client)
    reader.wait_for(lambda t: "retry:" in t)
    for key in ctx.redis.scan_iter(keys.dashboard_session("*")):
        ctx.redis.delete(key)
    assert reader.done.wait(3)
    assert "event: signedout" in reader.text


def test_the_stream_does_not_count_as_activity(fast_stream, ctx, client):
    session_for(fast_stream, client, "viewer")
    (key,) = list(ctx.redis.scan_iter(keys.dashboard_session("*")))
    ctx.redis.expire(key, 100)
    reader = connect(client)
    reader.wait_for(lambda t: ": keepalive" in t)
    assert ctx.redis.ttl(key) <= 100


def test_streams_per_process_are_capped_so_webhooks_keep_their_threads(fast_stream, client):
    fast_stream.config["DASHBOARD_MAX_STREAMS"] = 1
    session_for(fast_stream, client, "viewer")
    first = connect(client)
    first.wait_for(lambda t: "retry:" in t)
    refused = client.get("/dashboard/stream")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert first.done.wait(5)
    first.resp.close()  # what the WSGI server does when a response ends
    again = client.get("/dashboard/stream", buffered=False)
    assert again.status_code == 200
    again.close()


def test_a_process_without_streams_refuses_them_and_the_page_still_reads_the_queue(fast_stream, client):
    """The Procfile's web processes hold no streams (DASHBOARD_MAX_STREAMS=0): a page that
    reaches one anyway is told to retry, and its snapshot reads still work."""
    fast_stream.config["DASHBOARD_MAX_STREAMS"] = 0
    session_for(fast_stream, client, "viewer")
    refused = client.get("/dashboard/stream")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    snapshot = client.get("/dashboard/api/snapshot")
    assert snapshot.status_code == 200 and {"queue", "liaisons"} <= set(snapshot.get_json())
