"""The receipt of one request, printable (HTML with a print stylesheet, no script) and as JSON;
a sergeant adds or corrects the incident number and the interpreter's ID on it.

The page is a plain form: it works with scripts off, and a correction is a POST with the
session's CSRF token that answers with the page again (303), saying what was saved or why
not. Each correction is done by dispatch.report_facts, which keeps the old value in the
request's history and audits who changed what.
"""

from __future__ import annotations

from flask import Response, abort, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from dispatch import events
from dispatch.receipt import Receipt, receipt_of
from dispatch.report_facts import EXPECTED, MAX_LENGTH, Fact, Saved
from webhooks.dashboard.auth import SERGEANT, page, post, reader
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.views import _request_id
from webhooks.deps import ctx, wiring

NOTES = {
    "saved": "Saved.",
    "unchanged": "Nothing changed.",
    "invalid": f"Not saved: an incident number or ID is {EXPECTED}.",
    "gone": "Not saved: the request has expired.",
}


def _receipt(request_id: str) -> Receipt:
    rec = ctx().requests.get(_request_id(request_id))
    if rec is None:
        abort(404, description="no such request")
    return receipt_of(rec, ctx().roster)


@bp.get("/requests/<request_id>/receipt")
@page
def receipt_page(request_id: str) -> Response:
    receipt = _receipt(request_id)
    note = NOTES.get(request.args.get("note", ""), "")
    html = render_template(
        "dashboard/receipt.html",
        r=receipt,
        user=g.user,
        csrf=g.user.csrf,
        note=note,
        max_length=MAX_LENGTH,
        expected=EXPECTED,
    )
    return Response(html, mimetype="text/html")


@bp.get("/api/requests/<request_id>/receipt")
@reader
def receipt_json(request_id: str) -> Response:
    return jsonify(_receipt(request_id).as_dict())


@bp.post("/requests/<request_id>/receipt")
@post(SERGEANT)
def correct_receipt(request_id: str) -> BaseResponse:
    """Add or correct the incident number and the interpreter's ID (a blank field: unchanged)."""
    rid = _request_id(request_id)
    worst = "unchanged"
    for fact in (Fact.INCIDENT, Fact.INTERPRETER_ID):
        text = request.form.get(fact.value, "")[: MAX_LENGTH + 1].strip()
        if not text:
            continue
        saved = wiring().report.record(rid, fact, text, g.user.username).saved
        if saved == Saved.SAVED:
            events.publish(
                ctx().redis,
                "audit",
                {"action": f"set_{fact.value}", "target": rid, "outcome": "done"},
                maxlen=ctx().settings.events_maxlen,
            )
            worst = "saved" if worst == "unchanged" else worst
        elif saved in (Saved.INVALID, Saved.GONE):
            worst = saved.value
    if request.accept_mimetypes.best == "application/json":
        return jsonify(ok=worst in ("saved", "unchanged"), outcome=worst)
    return redirect(url_for("dashboard.receipt_page", request_id=rid, note=worst), code=303)
