"""One events reader per web process feeding every dashboard stream (webhooks/dashboard/broadcast.py).

What a sergeant would notice: every open page of a process gets each change, as the row
the page draws; a page that was away gets what it missed; a Redis restart does not leave
the pages frozen; past the per-process cap a page is told to poll.
"""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import time
from dataclasses import replace

import pytest

from dispatch import events
from tests.support.dashboard import accept, end_call, open_request, route, session_for
from tests.test_dashboard_stream import Reader, connect, parse
from webhooks.dashboard import broadcast

HEARTBEAT = 0.3


@pytest.fixture
def live(app):
    """The app with heartbeats and stream lifetimes fast enough for a test."""
    app.config.update(DASHBOARD_HEARTBEAT_SECONDS=HEARTBEAT, DASHBOARD_STREAM_SECONDS=8.0)
    yield app
    hub = app.extensions.get("dashboard_broadcaster")
    if hub is not None:
        hub.stop()


def readers_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "dashboard-broadcast" and t.is_alive())


def messages(reader: Reader) -> list[tuple[str, dict]]:
    return [(m["id"], json.loads(m["data"])) for m in parse([reader.text])]


def test_thirty_streams_in_one_process_all_get_each_change_from_one_reader(live, ctx, client):
    live.config["DASHBOARD_MAX_STREAMS"] = 30
    session_for(live, client, "viewer")
    before = readers_threads()
    pages = [connect(client) for _ in range(30)]
    for page in pages:
        page.wait_for(lambda t: "retry:" in t)
    refused = client.get("/dashboard/stream")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"

    rec = open_request(live, "spa")
    texts = [page.wait_for(lambda t: rec.id in t) for page in pages]
    got = [messages(page) for page in pages]
    assert all(g == got[0] for g in got) and len(got[0]) == 1
    _id, data = got[0][0]
    assert (data["request"], data["row"]["id"], data["row"]["state"]) == (rec.id, rec.id, "queued")
    chunk = texts[0][texts[0].index("id: ") :]
    assert all(t.endswith(chunk) for t in texts)  # the same message, formatted once
    assert readers_threads() <= before + 1  # one reader for the 30 streams
    assert live.extensions["dashboard_broadcaster"].followers == 30


def test_the_default_cap_admits_24_streams_and_refuses_the_next(live, client):
    live.config["DASHBOARD_STREAM_SECONDS"] = 2.0
    session_for(live, client, "viewer")
    pages = [connect(client) for _ in range(24)]
    refused = client.get("/dashboard/stream")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert "polling" in refused.get_json()["error"]
    assert pages[0].done.wait(5)
    pages[0].resp.close()  # a stream's life ends: the next page gets its place
    again = client.get("/dashboard/stream", buffered=False)
    assert again.status_code == 200
    again.close()


def test_a_request_s_life_arrives_as_the_rows_the_page_draws(live, ctx, jobs, client):
    csrf = session_for(live, client, "sergeant")
    page = connect(client)
    page.wait_for(lambda t: "retry:" in t)
    rec = open_request(live, "spa", officer_call="CA" + "3" * 32)
    page.wait_for(lambda t: '"state":"queued"' in t)
    route(live, jobs)  # a Spanish liaison's phone rings
    ringing = ctx.requests.get(rec.id).offer_liaison
    page.wait_for(lambda t: '"state":"offering"' in t and '"state":"ringing"' in t)
    accept(live, rec.id)
    page.wait_for(lambda t: '"state":"connected"' in t)
    live.extensions["dispatcher"].officer_call_ended("CA" + "3" * 32)
    page.wait_for(lambda t: '"state":"rejoining"' in t)  # the interpreter waits for a rejoin
    end_call(live, rec.id)  # ... and hangs up
    page.wait_for(lambda t: '"finished":true' in t)
    other = open_request(live, "rus")
    resp = client.post(f"/dashboard/requests/{other.id}/cancel", data={"csrf_token": csrf, "confirm": "yes"})
    assert resp.status_code == 200
    page.wait_for(lambda t: '"audit":[' in t)

    # Each message carries the row as it is when the batch is read (a later state if the
    # request moved on meanwhile): the page always draws the newest.
    got = [data for _id, data in messages(page)]
    mine = [d for d in got if d["request"] == rec.id and "row" in d]
    assert [d["row"]["state"] for d in mine][0] == "queued"
    offering = next(d["row"] for d in mine if d["row"]["state"] == "offering")
    assert offering["handler_kind"] == "liaison" and offering["can_send_to_vendor"] and offering["can_cancel"]
    assert "connected" in [d["row"]["state"] for d in mine]
    last = mine[-1]
    assert last["finished"] is True and last["row"]["outcome"] == "Completed (liaison)"
    assert last["row"]["time_to_interpreter"] is not None and not last["row"]["can_cancel"]
    rung = [d["liaison"] for d in got if isinstance(d.get("liaison"), dict) and d["liaison"]["id"] == ringing]
    assert ("ringing", rec.id) in [(l["state"], l["request"]) for l in rung]
    audit = next(d["audit"] for d in got if "audit" in d)
    assert (audit[0]["who"], audit[0]["action"], audit[0]["target"]) == ("sergeant", "cancel", other.id)
    assert ctx.roster.precincts[0].lines[0][2:] not in page.text  # callers stay masked


def test_a_stream_resuming_from_before_the_ring_gets_every_missed_event_once(live, ctx, redis_server, client):
    hub = broadcast.Broadcaster(ctx, redis_server.client(), block_seconds=HEARTBEAT, ring_size=5)
    live.extensions["dashboard_broadcaster"] = hub  # this process's broadcaster, with a short ring
    session_for(live, client, "viewer")
    watching = connect(client)
    watching.wait_for(lambda t: "retry:" in t)
    liaisons = [l.id for l in ctx.roster.liaisons]
    for n in range(12):
        events.publish(ctx.redis, "liaison_duty", {"liaison": liaisons[n % len(liaisons)]})
    ids = [e.id for e in events.read(ctx.redis, after="0")]
    watching.wait_for(lambda t: ids[-1] in t)  # the ring now holds only the last five

    away = connect(client, **{"Last-Event-ID": ids[1]})
    away.wait_for(lambda t: ids[-1] in t)
    got = messages(away)
    assert [i for i, _ in got] == ids[2:]
    assert [d["liaison"]["id"] for _, d in got] == [liaisons[n % len(liaisons)] for n in range(2, 12)]
    events.publish(ctx.redis, "liaison_duty", {"liaison": liaisons[0]})
    newest = events.last_id(ctx.redis)
    away.wait_for(lambda t: newest in t)  # and then it follows the ring
    assert [i for i, _ in messages(away)] == ids[2:] + [newest]


def test_a_redis_restart_does_not_stop_the_pages_updates(tmp_path):
    from dispatch.context import build_context
    from tests.conftest import fast_settings
    from tests.support.fakes import FakeTelephony, RecordingJobs
    from tests.support.redis_server import free_port, start_redis
    from tests.test_fault_support import stop_redis
    from webhooks import create_app

    port, dbdir = free_port(), str(tmp_path)
    servers = [start_redis(appendonly=True, port=port, dbdir=dbdir)]
    app = None
    try:
        settings = replace(fast_settings(), redis_url=servers[0].url)
        c = build_context(settings, jobs=RecordingJobs(), telephony=FakeTelephony(), r=servers[0].client())
        c.liaisons.sync([l.id for l in c.roster.liaisons])
        app = create_app(context=c)
        app.config.update(TESTING=True, DASHBOARD_HEARTBEAT_SECONDS=HEARTBEAT, DASHBOARD_STREAM_SECONDS=30.0)
        client = app.test_client()
        session_for(app, client, "viewer")
        page = connect(client)
        first = open_request(app, "spa")
        page.wait_for(lambda t: first.id in t)
        hub = app.extensions["dashboard_broadcaster"]

        stop_redis(servers[0], signal.SIGKILL)
        page.wait_for(lambda t: ": store unavailable" in t, timeout=10)
        servers.append(start_redis(appendonly=True, port=port, dbdir=dbdir))
        deadline = time.monotonic() + 10
        while True:
            try:
                second = open_request(app, "rus")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        page.wait_for(lambda t: second.id in t, timeout=15)
        assert not page.done.is_set() and hub.running and not hub.failing
        rows = [d["row"]["id"] for _, d in messages(page) if d.get("row")]
        assert rows == [first.id, second.id]
    finally:
        if app is not None and app.extensions.get("dashboard_broadcaster") is not None:
            app.extensions["dashboard_broadcaster"].stop()
        for server in servers:
            stop_redis(server)


def test_a_forked_web_process_builds_and_runs_its_own_broadcaster(live, ctx, redis_server, client):
    """gunicorn forks its workers: a thread (and its locks) does not survive a fork, so the child
    must not reuse the parent's broadcaster."""
    session_for(live, client, "viewer")
    page = connect(client)
    page.wait_for(lambda t: "retry:" in t)
    parent = live.extensions["dashboard_broadcaster"]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, never return into pytest
        try:
            hub = broadcast.for_app(live.extensions, ctx, redis_server.client, HEARTBEAT)
            hub.attach()
            start = events.last_id(ctx.redis)
            events.publish(ctx.redis, "liaison_duty", {"liaison": ctx.roster.liaisons[0].id})
            got = None
            deadline = time.monotonic() + 5
            while got is None and time.monotonic() < deadline:
                got = hub.wait(start, 0.5)
            chunk = got[0].decode() if got is not None and isinstance(got[0], bytes) else (got or ("",))[0]
            ok = hub is not parent and hub.pid == os.getpid() and ctx.roster.liaisons[0].id in chunk
            os.write(write_end, b"ok" if ok else b"no")
        except BaseException as exc:  # noqa: BLE001 (say what failed, from the child)
            os.write(write_end, repr(exc).encode()[:200])
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20)
        answer = os.read(read_end, 256) if ready else b"(no answer within 20 s)"
    finally:
        os.close(read_end)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert answer == b"ok", answer
    assert live.extensions["dashboard_broadcaster"] is parent and parent.running  # the parent's is untouched
