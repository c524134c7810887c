"""The page and the sergeant's actions.

The page is rendered with the current snapshot embedded as JSON (no inline script: the
CSP forbids it), and dashboard.js draws it and keeps it live. Each action is a POST
that must carry the CSRF token and `confirm=yes` (the page asks first); it is done by
the sergeant actions (dispatch/sergeant.py) or the liaison board and then written to the audit log with who, what,
the target and the outcome, whether it was done, refused or failed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from flask import (
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse  # what redirect() returns

from dispatch import events
from dispatch.missed_offers import resume
from webhooks.dashboard import snapshot
from webhooks.dashboard.auth import SERGEANT, page, post
from webhooks.dashboard.blueprint import bp
from webhooks.deps import ctx, settings, wiring

log = logging.getLogger("webhooks.dashboard")
_REQUEST_ID = re.compile(r"R[0-9]{1,12}")


def _script_json(data: object) -> str:
    """JSON safe inside <script type="application/json">: no <, > or & can end or reopen it."""
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@bp.get("")
@page
def index() -> Response:
    c = ctx()
    data = snapshot.snapshot(c, g.user.as_dict())
    html = render_template(
        "dashboard/index.html",
        user=g.user,
        csrf=g.user.csrf,
        snapshot_json=_script_json(data),
        alert_after=settings().wait_alert_seconds,
        idle_minutes=settings().session_idle_minutes,
        connected_alert_after=snapshot.connected_alert_after(c),
    )
    return Response(html, mimetype="text/html")


@bp.get("/")
def index_slash() -> WerkzeugResponse:
    return redirect(url_for("dashboard.index"))


@bp.post("/keepalive")
@post()
def keepalive() -> Response:
    """The person is at the page (a key press or a tap): the guard has renewed the session."""
    return Response(status=204)


def _confirmed() -> None:
    if request.form.get("confirm") != "yes":
        abort(400, description="confirmation required")


def _act(action: str, target: str, do: Callable[[], object], refused: str) -> Response:
    """Do it (None or False: refused), audit it, tell every open dashboard, answer the page."""
    c = ctx()
    try:
        result = do()
        done = result is not None and result is not False
        outcome = "done" if done else f"refused: {refused}"
    except Exception as exc:  # the audit must say it failed, not stay silent
        log.exception("dashboard action %s on %s failed", action, target)
        done, outcome = False, f"error: {type(exc).__name__}"
    events.audit(c.redis, g.user.username, action, target, outcome)
    events.publish(
        c.redis, "audit", {"action": action, "target": target, "outcome": outcome}, maxlen=c.settings.events_maxlen
    )
    resp = jsonify(ok=done, action=action, target=target, outcome=outcome)
    resp.status_code = 200 if done else (409 if outcome.startswith("refused") else 502)
    return resp


def _request_id(request_id: str) -> str:
    if not _REQUEST_ID.fullmatch(request_id) or ctx().requests.get(request_id) is None:
        abort(404, description="no such request")
    return request_id


@bp.post("/requests/<request_id>/send-to-vendor")
@post(SERGEANT)
def send_to_vendor(request_id: str) -> Response:
    rid = _request_id(request_id)
    _confirmed()
    return _act(
        "send_to_vendor", rid, lambda: wiring().sergeant.send_to_vendor_now(rid), "not waiting for a liaison any more"
    )


@bp.post("/requests/<request_id>/cancel")
@post(SERGEANT)
def cancel(request_id: str) -> Response:
    rid = _request_id(request_id)
    _confirmed()
    # A fixed reason: no free text is stored with a request (DESIGN.md, confidentiality).
    return _act(
        "cancel", rid, lambda: wiring().sergeant.cancel(rid, f"cancelled by {g.user.username}"), "no longer waiting"
    )


@bp.post("/requests/<request_id>/offer-again")
@post(SERGEANT)
def offer_again(request_id: str) -> Response:
    rid = _request_id(request_id)
    _confirmed()
    return _act("offer_again", rid, lambda: wiring().sergeant.offer_again(rid), "not queued")


@bp.post("/liaisons/<liaison_id>/duty")
@post(SERGEANT)
def duty(liaison_id: str) -> Response:
    c = ctx()
    if c.roster.liaison(liaison_id) is None:
        abort(404, description="no such liaison")
    choice = request.form.get("duty", "")
    on = {"on": True, "off": False, "schedule": None}
    if choice not in on:
        abort(400, description="duty must be on, off or schedule")
    _confirmed()

    def do() -> bool:
        c.liaisons.set_duty(liaison_id, on[choice])
        if on[choice]:
            resume(c, liaison_id, g.user.username)  # a sergeant's On duty lifts a pause after missed offers
        return True

    return _act(f"duty_{choice}", liaison_id, do, "")
