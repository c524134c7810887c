"""Helpers for the dashboard tests: signing in, and requests in a chosen state."""

from __future__ import annotations

import re
from typing import Any

from bootstrap import Wiring
from dispatch.records import RequestRecord
from dispatch.roster import Caller

PASSWORDS = {"sergeant": "sergeant-demo", "viewer": "viewer-demo", "commander": "commander-demo"}
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_DATA = re.compile(r'data-csrf="([^"]+)"')


def session_for(app, client, username: str) -> str:  # type: ignore[no-untyped-def]
    """A signed-in session without the (deliberately slow) password hash; returns its CSRF token."""
    from webhooks.dashboard import auth

    ctx = wiring(app).ctx
    with app.test_request_context():
        signed = auth.start_session(ctx.roster.user(username))
    with client.session_transaction() as sess:
        sess.clear()
        sess["sid"] = signed.session_id
    return signed.csrf


def signin_form_token(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/dashboard/signin")
    assert page.status_code == 200
    found = _CSRF_INPUT.search(page.get_data(as_text=True))
    assert found, "the sign-in form carries a CSRF token"
    return found.group(1)


def sign_in(client, username: str, password: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
    """The real sign-in form: GET for its token, POST the credentials. Returns the response."""
    token = signin_form_token(client)
    return client.post(
        "/dashboard/signin",
        data={
            "csrf_token": token,
            "username": username,
            "password": PASSWORDS.get(username, "") if password is None else password,
        },
        **kw,
    )


def page_csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/dashboard")
    assert page.status_code == 200, page.status_code
    found = _CSRF_DATA.search(page.get_data(as_text=True))
    assert found
    return found.group(1)


def wiring(app) -> Wiring:  # type: ignore[no-untyped-def]
    """The app's services (bootstrap.Wiring)."""
    wired: Wiring = app.extensions["wiring"]
    return wired


def precinct_line(app, index: int = 0) -> str:  # type: ignore[no-untyped-def]
    return wiring(app).ctx.roster.precincts[index].lines[0]


def open_request(
    app, language: str | None = "spa", line: int = 0, urgent: bool = False, officer_call: str = ""
) -> RequestRecord:  # type: ignore[no-untyped-def]
    """A queued request from a precinct line, as the IVR would open it (not routed yet)."""
    ctx = wiring(app).ctx
    precinct = ctx.roster.precincts[line]
    return wiring(app).intake.open_request(
        Caller(precinct.lines[0], "precinct", precinct.id, "Sector B"),
        ctx.catalog.get(language) if language else None,
        urgent=urgent,
        officer_call=officer_call,
    )


def route(app, jobs) -> None:  # type: ignore[no-untyped-def]
    """Run the route jobs the app submitted, as a worker would."""
    jobs.drain()


def accept(app, request_id: str) -> RequestRecord:  # type: ignore[no-untyped-def]
    """The ringing liaison presses 1."""
    ctx = wiring(app).ctx
    rec = ctx.requests.get(request_id)
    assert rec is not None and rec.offer_id, rec
    wiring(app).offer_outcomes.offer_reply(rec.id, rec.offer_id, rec.offer_liaison, "1", "CA" + "a" * 32)
    rec = ctx.requests.get(request_id)
    assert rec is not None
    return rec


def end_call(app, request_id: str) -> RequestRecord:  # type: ignore[no-untyped-def]
    """The officer hangs up (the interpreter is asked whether to call them back) and the
    interpreter then hangs up too: the request is completed."""
    ctx = wiring(app).ctx
    rec = ctx.requests.get(request_id)
    assert rec is not None and rec.officer_call, rec
    wiring(app).call_ends.officer_call_ended(rec.officer_call)
    wiring(app).call_ends.interpreter_left(ctx.requests.get(request_id), rec.handler_call)
    rec = ctx.requests.get(request_id)
    assert rec is not None
    return rec
