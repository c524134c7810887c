"""The printable receipt on the dashboard: the page (no script, a print stylesheet), its JSON,
and a sergeant's additions and corrections (CSRF, role, audit without the values, the old value
in the request's history)."""

from __future__ import annotations

import re

import pytest

from dispatch import events
from tests.support.dashboard import accept, end_call, open_request, route, session_for

OFFICER_CALL = "CA" + "7" * 32


@pytest.fixture
def done(app, jobs):  # type: ignore[no-untyped-def]
    """A Spanish request from a precinct line, taken by a liaison and finished."""
    rec = open_request(app, officer_call=OFFICER_CALL)
    route(app, jobs)
    accept(app, rec.id)
    return end_call(app, rec.id)


@pytest.fixture
def sergeant(app, client):  # type: ignore[no-untyped-def]
    client.csrf = session_for(app, client, "sergeant")
    return client


def test_the_page_shows_what_the_report_needs_and_carries_no_script(sergeant, ctx, done):
    resp = sergeant.get(f"/dashboard/requests/{done.id}/receipt")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<script" not in html and "receipt.css" in html
    liaison = ctx.roster.liaison(done.handler_id)
    assert f"{liaison.name}, community liaison (roster id {liaison.id})" in html
    assert "75th Precinct" in html and "Spanish" in html
    assert re.search(r'id="r-connected">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<', html)
    assert 'name="csrf_token"' in html and 'name="incident"' in html


def test_the_json_has_every_field(sergeant, ctx, done):
    data = sergeant.get(f"/dashboard/api/requests/{done.id}/receipt").get_json()
    assert data["request"] == done.id and data["interpreter_kind"] == "liaison"
    assert data["liaison_id"] == done.handler_id and data["language"] == "Spanish"
    assert data["time_to_interpreter"] is not None and data["duration"] is not None
    assert set(data) >= {"incident", "interpreter_id", "preference", "queued_at", "connected_at", "ended_at"}
    assert not any(ctx.roster.precincts[0].lines[0] in str(v) for v in data.values()), "no phone number"


def test_a_sergeant_adds_then_corrects_and_the_old_value_is_kept(sergeant, ctx, done):
    path = f"/dashboard/requests/{done.id}/receipt"
    resp = sergeant.post(path, data={"csrf_token": sergeant.csrf, "incident": "2026-012345", "interpreter_id": ""})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("note=saved")
    assert ctx.requests.get(done.id).incident == "2026-012345"
    sergeant.post(path, data={"csrf_token": sergeant.csrf, "incident": "2026-012346", "interpreter_id": "ab-9"})
    rec = ctx.requests.get(done.id)
    assert (rec.incident, rec.interpreter_ref) == ("2026-012346", "AB-9")
    changes = [h["data"] for h in ctx.requests.history(done.id) if h["event"] == "incident_set"]
    assert changes == [
        {"by": "sergeant", "old": "", "new": "2026-012345"},
        {"by": "sergeant", "old": "2026-012345", "new": "2026-012346"},
    ]
    audit = events.audit_entries(ctx.redis, count=3)
    assert [(e["who"], e["action"], e["target"]) for e in audit][:2] == [
        ("sergeant", "set_interpreter_id", done.id),
        ("sergeant", "set_incident", done.id),
    ]
    assert audit[1]["outcome"] == "done, replacing an earlier value"
    assert not any("2026-01234" in str(e) for e in audit), "the audit log outlives the record: no values in it"
    page = sergeant.get(path + "?note=saved").get_data(as_text=True)
    assert 'id="r-incident">2026-012346<' in page and "Saved." in page


def test_a_bad_value_is_refused_with_what_is_expected(sergeant, ctx, done):
    path = f"/dashboard/requests/{done.id}/receipt"
    resp = sergeant.post(path, data={"csrf_token": sergeant.csrf, "incident": "2026/01 <b>"}, follow_redirects=True)
    assert "Not saved: an incident number or ID is letters, digits and dashes, at most 20." in resp.get_data(
        as_text=True
    )
    assert ctx.requests.get(done.id).incident == ""


def test_a_viewer_sees_but_cannot_correct_and_csrf_is_required(app, client, ctx, done):
    session_for(app, client, "viewer")
    page = client.get(f"/dashboard/requests/{done.id}/receipt").get_data(as_text=True)
    assert 'name="incident"' not in page
    csrf = session_for(app, client, "viewer")
    resp = client.post(f"/dashboard/requests/{done.id}/receipt", data={"csrf_token": csrf, "incident": "1"})
    assert resp.status_code == 403
    csrf = session_for(app, client, "sergeant")
    resp = client.post(f"/dashboard/requests/{done.id}/receipt", data={"csrf_token": "wrong", "incident": "1"})
    assert resp.status_code == 403 and ctx.requests.get(done.id).incident == ""


def test_signed_out_or_unknown_requests_get_nothing(app, sergeant, done):
    assert sergeant.get("/dashboard/requests/R99999/receipt").status_code == 404
    assert sergeant.get("/dashboard/requests/x/receipt").status_code == 404
    stranger = app.test_client()
    assert stranger.get(f"/dashboard/requests/{done.id}/receipt").status_code == 302
    assert stranger.get(f"/dashboard/api/requests/{done.id}/receipt").status_code == 401
    assert stranger.post(f"/dashboard/requests/{done.id}/receipt", data={"incident": "1"}).status_code == 401


def test_the_queue_row_shows_the_preference(app, sergeant, ctx):
    from dispatch.roster import Caller

    precinct = ctx.roster.precincts[0]
    app.extensions["wiring"].intake.open_request(
        Caller(precinct.lines[0], "precinct", precinct.id), ctx.catalog.get("spa"), gender="female"
    )
    [row] = sergeant.get("/dashboard/api/queue").get_json()["active"]
    assert row["preference"] == "female"
