"""What the dashboard shows, through Flask: the page, the JSON API, masking, security headers."""

from __future__ import annotations

import base64
import json
import re

import pytest

from dispatch import clock
from dispatch.states import State
from tests.support.dashboard import accept, end_call, open_request, route, session_for


@pytest.fixture
def viewer(app, client):
    session_for(app, client, "viewer")
    return client


def every_phone_number(ctx, extra: tuple[str, ...] = ()) -> set[str]:
    """Every full number the roster knows, in E.164 and as bare national digits."""
    roster = ctx.roster
    numbers = {roster.service_number, roster.vendor.number, roster.vendor.alternate or ""}
    numbers |= {line for p in roster.precincts for line in p.lines}
    numbers |= {s.cell for s in roster.supervisors} | {l.phone for l in roster.liaisons} | set(extra)
    numbers.discard("")
    return numbers | {n[2:] for n in numbers if n.startswith("+1")}


def assert_no_full_number(text: str, ctx, extra: tuple[str, ...] = ()) -> None:
    leaked = sorted(n for n in every_phone_number(ctx, extra) if n in text)
    assert not leaked, f"full phone numbers on the dashboard: {leaked}"


def test_the_page_needs_a_session(client):
    resp = client.get("/dashboard")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard/signin")


def test_queue_json_lists_waiting_then_connected_with_masked_callers(app, ctx, jobs, viewer):
    first = open_request(app, "spa", line=0)
    route(app, jobs)  # first: ringing a Spanish liaison
    second = open_request(app, "tir", line=1)  # nobody speaks Tigrinya: stays queued until routed
    third = open_request(app, "rus", line=2)
    route(app, jobs)  # second → vendor, third → ringing
    accept(app, third.id)  # third: connected to its liaison
    data = viewer.get("/dashboard/api/queue").get_json()
    ids = [row["id"] for row in data["active"]]
    assert ids == [first.id, second.id, third.id]
    rows = {row["id"]: row for row in data["active"]}
    assert rows[first.id]["state"] == "offering" and rows[first.id]["handler_kind"] == "liaison"
    assert rows[first.id]["handler"] in {l.name for l in ctx.roster.liaisons if "spa" in l.languages}
    assert rows[second.id]["state"] == "vendor_dialing" and rows[second.id]["handler"] == ctx.roster.vendor.name
    assert rows[third.id]["state"] == "connected" and rows[third.id]["handler"] == "Olga Ivanova"
    assert rows[first.id]["precinct"] == ctx.roster.precincts[0].name and rows[first.id]["unit"] == "Sector B"
    assert rows[first.id]["language"] == "Spanish"
    assert 0 <= rows[first.id]["wait_seconds"] < 5 and not rows[first.id]["alert"]
    assert rows[first.id]["caller"].endswith(ctx.roster.precincts[0].lines[0][-4:])
    assert_no_full_number(json.dumps(data), ctx)


def test_a_long_wait_is_flagged_and_the_wait_counts_from_queueing(app, ctx, viewer):
    rec = open_request(app, "spa")
    ctx.requests.set_fields(rec.id, {"queued_at": clock.now() - ctx.settings.wait_alert_seconds - 5})
    row = viewer.get("/dashboard/api/queue").get_json()["active"][0]
    assert row["alert"] is True and row["wait_seconds"] >= ctx.settings.wait_alert_seconds + 5
    assert viewer.get("/dashboard/api/queue").get_json()["alert_after"] == ctx.settings.wait_alert_seconds


def test_finished_requests_move_below_with_their_outcome(app, ctx, jobs, viewer):
    rec = open_request(app, "spa", officer_call="CA" + "1" * 32)
    route(app, jobs)
    accept(app, rec.id)
    app.extensions["dispatcher"].officer_call_ended("CA" + "1" * 32)
    data = viewer.get("/dashboard/api/queue").get_json()
    assert [(r["id"], r["state_label"], r["drops"]) for r in data["active"]] == [
        (rec.id, "Officer dropped, rejoining", 1)
    ], "the interpreter waits: not finished yet"
    end_call(app, rec.id)
    data = viewer.get("/dashboard/api/queue").get_json()
    assert data["active"] == []
    assert [(r["id"], r["state"], r["outcome"]) for r in data["finished"]] == [
        (rec.id, "completed", "Completed (liaison)")
    ]
    assert data["finished"][0]["time_to_interpreter"] is not None


def test_page_embeds_the_snapshot_and_shows_no_full_number(app, ctx, jobs, viewer):
    open_request(app, "spa")
    route(app, jobs)
    html = viewer.get("/dashboard").get_data(as_text=True)
    embedded = re.search(r'<script type="application/json" id="snapshot">(.*?)</script>', html, re.DOTALL)
    assert embedded
    snap = json.loads(embedded.group(1))
    assert snap["queue"]["active"][0]["language"] == "Spanish"
    assert snap["user"] == {"username": "viewer", "name": "Viewer (sample)", "role": "viewer", "can_act": False}
    assert_no_full_number(html, ctx)


def test_liaisons_json_shows_the_ringing_liaison_and_duty(app, ctx, jobs, viewer):
    rec = open_request(app, "spa")
    route(app, jobs)
    ringing = ctx.requests.get(rec.id).offer_liaison
    ctx.liaisons.set_duty("l-chen", False)
    rows = {row["id"]: row for row in viewer.get("/dashboard/api/liaisons").get_json()["liaisons"]}
    assert set(rows) == {l.id for l in ctx.roster.liaisons}
    assert (rows[ringing]["state"], rows[ringing]["request"]) == ("ringing", rec.id)
    assert (rows["l-chen"]["state"], rows["l-chen"]["on_duty"], rows["l-chen"]["duty_override"]) == (
        "off",
        False,
        "off",
    )
    assert rows["l-garcia"]["languages"] == ["Spanish", "Portuguese"]
    assert_no_full_number(json.dumps(rows), ctx)


def test_stats_json_counts_todays_requests(app, ctx, jobs, viewer):
    a = open_request(app, "spa")
    open_request(app, "spa")
    route(app, jobs)
    accept(app, a.id)
    stats = viewer.get("/dashboard/api/stats").get_json()
    assert stats["requests"] == 2 and stats["connected"] == 1 and stats["by_liaison"] == 1
    assert stats["by_language"] == [{"language": "Spanish", "count": 2}]
    assert stats["median_tti"] is not None and stats["liaison_share"] == 1.0


def test_audit_json_lists_entries_newest_first(app, ctx, viewer):
    from dispatch import events

    events.audit(ctx.redis, "sergeant", "cancel", "R00001", "done")
    events.audit(ctx.redis, "sergeant", "duty_off", "l-chen", "done")
    entries = viewer.get("/dashboard/api/audit").get_json()["entries"]
    assert [(e["action"], e["target"]) for e in entries] == [("duty_off", "l-chen"), ("cancel", "R00001")]
    assert all(e["who"] == "sergeant" and e["ts"].endswith("Z") for e in entries)


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/api/queue",
        "/dashboard/api/liaisons",
        "/dashboard/api/stats",
        "/dashboard/api/audit",
        "/dashboard/api/snapshot",
        "/dashboard/stream",
    ],
)
def test_the_api_refuses_anyone_not_signed_in_without_a_browser_prompt(client, path):
    resp = client.get(path)
    assert resp.status_code == 401 and resp.get_json()["reason"] == "signin"
    assert "WWW-Authenticate" not in resp.headers


def test_other_tools_read_with_an_api_token_not_with_a_password(client, ctx):
    from dispatch import api_tokens

    token = api_tokens.create(ctx.redis, "wallboard")
    assert client.get("/dashboard/api/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    wrong = client.get("/dashboard/api/stats", headers={"Authorization": "Bearer ird_not-a-token"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    basic = base64.b64encode(b"viewer:viewer-demo").decode()  # a person's right password: not for tools
    refused = client.get("/dashboard/api/stats", headers={"Authorization": f"Basic {basic}"})
    assert refused.status_code == 401 and refused.get_json()["reason"] == "token"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_pages_carry_a_strict_content_security_policy_and_use_no_external_assets(client, viewer):
    resp = viewer.get("/dashboard")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["X-Frame-Options"] == "DENY"
    html = resp.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith(("/", "#")) for a in assets), assets
    assert "<script>" not in html and " style=" not in html  # nothing inline for the CSP to refuse
    for asset in ("/static/dashboard/dashboard.js", "/static/dashboard/dashboard.css"):
        assert asset in html
        body = client.get(asset)
        assert body.status_code == 200
        assert not re.findall(rb"https?://(?!www\.w3\.org/2000/svg)", body.data)  # only the SVG namespace
        body.close()


def test_embedded_json_cannot_close_its_script_tag(app, ctx, viewer):
    from dispatch import events

    events.audit(ctx.redis, "sergeant", "cancel", "</script><script>alert(1)</script>", "done")
    html = viewer.get("/dashboard").get_data(as_text=True)
    assert "</script><script>alert(1)" not in html
    embedded = re.search(r'<script type="application/json" id="snapshot">(.*?)</script>', html, re.DOTALL)
    assert json.loads(embedded.group(1))["audit"][0]["target"].startswith("</script>")


def test_a_request_from_a_supervisor_cell_is_masked_too(app, ctx, viewer):
    from dispatch.routing import Caller

    cell = ctx.roster.supervisors[0].cell
    app.extensions["dispatcher"].open_request(
        Caller(cell, "supervisor", "75"), ctx.catalog.get("spa"), channel="sms", state=State.NEW, callback_number=cell
    )
    body = viewer.get("/dashboard/api/snapshot").get_data(as_text=True)
    assert json.loads(body)["queue"]["active"][0]["channel"] == "sms"
    assert_no_full_number(body, ctx, extra=(cell,))


def test_the_stream_s_rows_are_the_snapshot_s_rows(app, ctx, jobs, viewer):
    """What a page applies from a stream message looks exactly like a full re-read."""
    from webhooks.dashboard import snapshot

    ringing = open_request(app, "spa", line=0)
    route(app, jobs)
    done = open_request(app, "rus", line=1, officer_call="CA" + "2" * 32)
    route(app, jobs)
    accept(app, done.id)
    end_call(app, done.id)
    liaison = ctx.requests.get(ringing.id).offer_liaison
    ctx.liaisons.set_duty("l-chen", False)

    found = snapshot.changes(ctx, [ringing.id, done.id, "R99999"], [liaison, "l-chen", "l-nobody"], with_audit=True)
    queue = viewer.get("/dashboard/api/queue").get_json()
    board = {row["id"]: row for row in viewer.get("/dashboard/api/liaisons").get_json()["liaisons"]}

    def same(row: dict) -> dict:
        return {k: v for k, v in row.items() if k != "wait_seconds"}  # (read a moment apart)

    assert same(found.requests[ringing.id]) == same(queue["active"][0])
    assert same(found.requests[done.id]) == same(queue["finished"][0])
    assert found.finished == {done.id} and found.requests["R99999"] is None
    assert json.loads(json.dumps(found.liaisons)) == {liaison: board[liaison], "l-chen": board["l-chen"]}
    assert found.audit == viewer.get("/dashboard/api/audit").get_json()["entries"]
    assert_no_full_number(json.dumps(found.requests), ctx)


def test_a_slow_refresh_may_be_served_a_shared_read_and_says_when_it_was_read(app, ctx, viewer):
    first = viewer.get("/dashboard/api/snapshot").get_json()
    open_request(app, "spa")
    later = viewer.get("/dashboard/api/snapshot?max_age=10").get_json()
    assert later["last_event_id"] == first["last_event_id"] and later["queue"]["active"] == []
    assert later["user"]["username"] == "viewer" and later["finished_limit"] == 25
    assert viewer.get("/dashboard/api/snapshot?max_age=nope").status_code == 200


def test_pages_opening_at_once_share_one_read_of_the_store(app, ctx, viewer, monkeypatch):
    """50 pages opening together used to start 50 reads of every open request at once
    (seconds of CPU under a surge, and the phone webhooks waited); now they share one."""
    import threading
    import time as _time

    from webhooks.dashboard import snapshot as snap

    real, reads = snap.snapshot, []

    def slow_read(c, user):  # the store read itself, made slow as under a surge
        reads.append(1)
        _time.sleep(0.3)
        return real(c, user)

    monkeypatch.setattr(snap, "snapshot", slow_read)
    open_request(app, "spa")
    cookie = viewer.get_cookie("session")
    answers = []

    def page():
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value)
        answers.append(client.get("/dashboard/api/snapshot").get_json())

    pages = [threading.Thread(target=page) for _ in range(8)]
    for t in pages:
        t.start()
    for t in pages:
        t.join(10)
    assert len(answers) == 8 and all(len(a["queue"]["active"]) == 1 for a in answers)
    assert len(reads) == 1
