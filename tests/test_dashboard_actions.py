"""The sergeant's actions: each one's effect, its audit entry, confirmation, roles and CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch import events, keys
from dispatch.states import State
from tests.support.dashboard import open_request, route, session_for

OFFICER_CALL = "CA" + "7" * 32


@pytest.fixture
def sergeant(app, client):
    """A signed-in sergeant's client; its CSRF token is `client.csrf`."""
    client.csrf = session_for(app, client, "sergeant")
    return client


def act(client, path: str, confirm: bool = True, csrf: str | None = "session", **form: str):  # type: ignore[no-untyped-def]
    data = dict(form)
    if confirm:
        data["confirm"] = "yes"
    if csrf == "session":
        data["csrf_token"] = client.csrf
    elif csrf is not None:
        data["csrf_token"] = csrf
    return client.post(path, data=data)


def audit_log(ctx) -> list[dict[str, str]]:
    return events.audit_entries(ctx.redis)


def assert_audited(ctx, who: str, action: str, target: str, outcome: str) -> None:
    entry = audit_log(ctx)[0]
    assert (entry["who"], entry["action"], entry["target"], entry["outcome"]) == (who, action, target, outcome)
    when = datetime.strptime(entry["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - when) < timedelta(seconds=10)


def test_send_to_vendor_now_dials_the_vendor_and_is_audited(app, ctx, jobs, telephony, sergeant):
    rec = open_request(app, "spa")
    route(app, jobs)
    assert ctx.requests.get(rec.id).state == State.OFFERING
    resp = act(sergeant, f"/dashboard/requests/{rec.id}/send-to-vendor")
    assert resp.status_code == 200 and resp.get_json() == {
        "ok": True,
        "action": "send_to_vendor",
        "target": rec.id,
        "outcome": "done",
    }
    after = ctx.requests.get(rec.id)
    assert after.state == State.VENDOR_DIALING
    assert telephony.calls[-1].to == ctx.roster.vendor.number
    assert [h["data"].get("reason") for h in ctx.requests.history(rec.id) if h["event"] == "vendor_dial"] == [
        "sent by sergeant"
    ]
    assert_audited(ctx, "sergeant", "send_to_vendor", rec.id, "done")


def test_cancel_ends_the_request_and_the_officers_call(app, ctx, jobs, telephony, sergeant):
    rec = open_request(app, "spa", officer_call=OFFICER_CALL)
    resp = act(sergeant, f"/dashboard/requests/{rec.id}/cancel")
    assert resp.status_code == 200 and resp.get_json()["ok"] is True
    assert ctx.requests.get(rec.id).state == State.CANCELLED
    assert telephony.hangups == [], "the action does not wait on the phone network"
    jobs.drain(app.extensions["dispatcher"])
    assert OFFICER_CALL in telephony.hangups
    assert [h["data"] for h in ctx.requests.history(rec.id) if h["event"] == "cancel"] == [
        {"reason": "cancelled by sergeant"}
    ]
    assert_audited(ctx, "sergeant", "cancel", rec.id, "done")


def test_offer_again_forgets_who_was_tried_and_routes_it(app, ctx, jobs, sergeant):
    rec = open_request(app, "spa")
    jobs.submitted.clear()
    ctx.requests.mark_tried(rec.id, "l-garcia")
    resp = act(sergeant, f"/dashboard/requests/{rec.id}/offer-again")
    assert resp.status_code == 200
    assert ctx.requests.tried(rec.id) == set()
    assert jobs.submitted == [("route", (rec.id,))]
    assert_audited(ctx, "sergeant", "offer_again", rec.id, "done")


@pytest.mark.parametrize(("choice", "override", "action"), [("off", "off", "duty_off"), ("on", "on", "duty_on")])
def test_duty_on_and_off_override_the_schedule(app, ctx, sergeant, choice, override, action):
    resp = act(sergeant, "/dashboard/liaisons/l-reyes/duty", duty=choice)
    assert resp.status_code == 200
    assert ctx.liaisons.status("l-reyes").duty_override == override
    assert_audited(ctx, "sergeant", action, "l-reyes", "done")


def test_putting_a_liaison_off_duty_takes_them_out_of_routing(app, ctx, jobs, sergeant):
    for lid in ("l-garcia", "l-reyes"):
        assert act(sergeant, f"/dashboard/liaisons/{lid}/duty", duty="off").status_code == 200
    rec = open_request(app, "spa")
    route(app, jobs)
    assert ctx.requests.get(rec.id).state == State.VENDOR_DIALING  # no Spanish liaison left on duty
    assert act(sergeant, "/dashboard/liaisons/l-reyes/duty", duty="schedule").status_code == 200
    assert ctx.liaisons.status("l-reyes").duty_override == ""
    assert_audited(ctx, "sergeant", "duty_schedule", "l-reyes", "done")


def test_an_action_that_no_longer_applies_is_refused_and_audited_as_such(app, ctx, jobs, sergeant):
    rec = open_request(app, "spa")
    act(sergeant, f"/dashboard/requests/{rec.id}/cancel")
    resp = act(sergeant, f"/dashboard/requests/{rec.id}/send-to-vendor")
    assert resp.status_code == 409 and resp.get_json()["ok"] is False
    assert ctx.requests.get(rec.id).state == State.CANCELLED
    assert_audited(ctx, "sergeant", "send_to_vendor", rec.id, "refused: not waiting for a liaison any more")


def test_each_action_publishes_an_event_so_other_screens_refresh(app, ctx, sergeant):
    rec = open_request(app, "spa")
    start = events.last_id(ctx.redis)
    act(sergeant, f"/dashboard/requests/{rec.id}/offer-again")
    published = [(e.event, e.data.get("target")) for e in events.read(ctx.redis, after=start)]
    assert ("audit", rec.id) in published


ACTIONS = [
    ("/dashboard/requests/{id}/send-to-vendor", {}),
    ("/dashboard/requests/{id}/cancel", {}),
    ("/dashboard/requests/{id}/offer-again", {}),
    ("/dashboard/liaisons/l-reyes/duty", {"duty": "off"}),
]


def _unchanged(ctx, rec_id: str, jobs_before: int, jobs) -> None:  # type: ignore[no-untyped-def]
    assert ctx.requests.get(rec_id).state == State.QUEUED
    assert ctx.liaisons.status("l-reyes").duty_override == ""
    assert audit_log(ctx) == []
    assert len(jobs.submitted) == jobs_before


@pytest.mark.parametrize(("path", "form"), ACTIONS)
def test_every_action_needs_confirmation(app, ctx, jobs, sergeant, path, form):
    rec = open_request(app, "spa")
    before = len(jobs.submitted)
    resp = act(sergeant, path.format(id=rec.id), confirm=False, **form)
    assert resp.status_code == 400 and "confirm" in resp.get_json()["error"]
    _unchanged(ctx, rec.id, before, jobs)


@pytest.mark.parametrize(("path", "form"), ACTIONS)
def test_a_viewer_cannot_act(app, ctx, jobs, client, path, form):
    client.csrf = session_for(app, client, "viewer")
    rec = open_request(app, "spa")
    before = len(jobs.submitted)
    resp = act(client, path.format(id=rec.id), **form)
    assert resp.status_code == 403
    _unchanged(ctx, rec.id, before, jobs)


@pytest.mark.parametrize(("path", "form"), ACTIONS)
@pytest.mark.parametrize(("csrf", "status"), [(None, 400), ("", 400), ("forged-token", 403)])
def test_every_action_checks_the_csrf_token(app, ctx, jobs, sergeant, path, form, csrf, status):
    rec = open_request(app, "spa")
    before = len(jobs.submitted)
    resp = act(sergeant, path.format(id=rec.id), csrf=csrf, **form)
    assert resp.status_code == status
    _unchanged(ctx, rec.id, before, jobs)


def test_another_sessions_token_is_not_accepted(app, ctx, jobs, client):
    other = app.test_client()
    stolen = session_for(app, other, "sergeant")
    client.csrf = session_for(app, client, "sergeant")
    rec = open_request(app, "spa")
    resp = act(client, f"/dashboard/requests/{rec.id}/cancel", csrf=stolen)
    assert resp.status_code == 403 and ctx.requests.get(rec.id).state == State.QUEUED


def test_the_token_may_come_in_a_header(app, ctx, sergeant):
    rec = open_request(app, "spa")
    resp = sergeant.post(
        f"/dashboard/requests/{rec.id}/cancel", data={"confirm": "yes"}, headers={"X-CSRF-Token": sergeant.csrf}
    )
    assert resp.status_code == 200 and ctx.requests.get(rec.id).state == State.CANCELLED


def test_actions_need_a_session(app, ctx, client):
    rec = open_request(app, "spa")
    resp = client.post(f"/dashboard/requests/{rec.id}/cancel", data={"confirm": "yes", "csrf_token": "x"})
    assert resp.status_code == 401 and ctx.requests.get(rec.id).state == State.QUEUED


@pytest.mark.parametrize(
    "path",
    ["/dashboard/requests/R99999/cancel", "/dashboard/requests/nope/cancel", "/dashboard/liaisons/l-nobody/duty"],
)
def test_unknown_targets_are_404_and_not_audited(ctx, sergeant, path):
    resp = act(sergeant, path, duty="off")
    assert resp.status_code == 404 and audit_log(ctx) == []


def test_a_bad_duty_value_is_refused(ctx, sergeant):
    resp = act(sergeant, "/dashboard/liaisons/l-reyes/duty", duty="maybe")
    assert resp.status_code == 400 and ctx.redis.hget(keys.liaison("l-reyes"), "duty") is None


def test_a_failure_while_acting_is_audited_as_an_error(app, ctx, sergeant, monkeypatch):
    rec = open_request(app, "spa")

    def broken(request_id: str) -> bool:
        raise RuntimeError("phone network down")

    monkeypatch.setattr(app.extensions["dispatcher"], "send_to_vendor_now", broken)
    resp = act(sergeant, f"/dashboard/requests/{rec.id}/send-to-vendor")
    assert resp.status_code == 502 and resp.get_json()["outcome"] == "error: RuntimeError"
    assert_audited(ctx, "sergeant", "send_to_vendor", rec.id, "error: RuntimeError")
