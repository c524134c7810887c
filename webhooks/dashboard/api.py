"""The dashboard's data as JSON, for the page itself and for other tools.

Read-only; a session cookie or HTTP Basic credentials of any role. Reading does not
count as activity (see auth), so a tool polling with a page's cookie still times out.
Numbers are masked exactly as on the page: these are the same view models.
"""
from __future__ import annotations

from flask import Response, g, jsonify, request

from webhooks.dashboard import bp, snapshot
from webhooks.dashboard.auth import reader
from webhooks.deps import ctx


@bp.get("/api/snapshot")
@reader
def api_snapshot() -> Response:
    """Everything the page draws, in one read (what the page fetches on each event)."""
    return jsonify(snapshot.snapshot(ctx(), g.user.as_dict()))


@bp.get("/api/queue")
@reader
def api_queue() -> Response:
    c = ctx()
    return jsonify(snapshot.queue(c, snapshot.load(c)).as_dict())


@bp.get("/api/liaisons")
@reader
def api_liaisons() -> Response:
    return jsonify(liaisons=[row.as_dict() for row in snapshot.liaisons(ctx())])


@bp.get("/api/stats")
@reader
def api_stats() -> Response:
    return jsonify(snapshot.stats(snapshot.load(ctx())).as_dict())


@bp.get("/api/audit")
@reader
def api_audit() -> Response:
    try:
        count = min(500, max(1, int(request.args.get("count", snapshot.AUDIT_ROWS))))
    except ValueError:
        count = snapshot.AUDIT_ROWS
    return jsonify(entries=snapshot.audit(ctx(), count))
