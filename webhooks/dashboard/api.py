"""The dashboard's data as JSON, for the page itself and for other tools.

Read-only; a session cookie of any role, or an API token (`Authorization: Bearer`, see
auth). Reading does not count as activity, so a tool polling with a page's cookie still
times out.
Numbers are masked exactly as on the page: these are the same view models.
"""

from __future__ import annotations

import threading
import time

from flask import Response, current_app, g, jsonify, request

from webhooks.dashboard import bp, snapshot
from webhooks.dashboard.auth import reader
from webhooks.deps import ctx


SNAPSHOT_MAX_AGE = 0.5  # seconds one read of the store may serve every page of a process ...
SNAPSHOT_SHARE = 0.2  # ... or longer, so that reads take at most this share of the time
SNAPSHOT_WAIT = 10.0  # seconds a request waits for the first read in progress before reading itself
SNAPSHOT_MAX_AGE_ASKED = 30.0  # the most a caller may accept with ?max_age= (the page's slow refresh)


class _SharedSnapshot:
    """One snapshot read (and its JSON) serves every page this process answers for a moment.

    A page reads the snapshot when its stream (re)connects, every 3 s while its stream is
    refused, and for today's figures every 15 s (its stream's messages carry the changed
    rows meanwhile); a read costs ~0.15 ms of CPU per open request, and 50 pages that
    re-read it on every event starved the phone webhooks that share these threads. So at
    most one read per SNAPSHOT_MAX_AGE per process runs (longer when a read takes long:
    reads keep to SNAPSHOT_SHARE of the time); requests meanwhile get the last one at once
    (never waiting on a read in progress). A caller may accept an older one (`max_age`,
    the page's slow refresh: it re-applies the messages it had after the snapshot's
    last_event_id, so an older snapshot loses nothing).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)  # a read in progress has finished
        self.body = ""  # JSON of the snapshot without "user", keys sorted as jsonify sorts
        self.read_at = 0.0  # monotonic start of the read `body` came from
        self.reading = False
        self.max_age = SNAPSHOT_MAX_AGE

    def json(self, user: dict, max_age: float = 0.0) -> str:
        with self.lock:
            if self.reading and not self.body:
                # The first read of this process is under way (50 pages opening at once
                # each started their own: seconds of CPU, and the webhooks starved): wait for it.
                self.done.wait_for(lambda: not self.reading, timeout=SNAPSHOT_WAIT)
            fresh = time.monotonic() - self.read_at < max(self.max_age, max_age)
            serve = self.body if (fresh or self.reading) and self.body else ""
            if not serve:
                self.reading = True
        if not serve:
            started = time.monotonic()
            try:
                data = snapshot.snapshot(ctx(), {})
                data.pop("user", None)
                serve = current_app.json.dumps(data, separators=(",", ":"))
            finally:
                took = time.monotonic() - started
                with self.lock:
                    self.reading = False
                    if started >= self.read_at and serve:
                        self.body, self.read_at = serve, started
                        self.max_age = max(SNAPSHOT_MAX_AGE, took / SNAPSHOT_SHARE)
                    self.done.notify_all()
        # "user" sorts last among the snapshot's keys: the same bytes jsonify would send.
        return serve[:-1] + ',"user":' + current_app.json.dumps(user, separators=(",", ":")) + "}\n"


@bp.get("/api/snapshot")
@reader
def api_snapshot() -> Response:
    """Everything the page draws, in one read; `?max_age=S`: a shared read up to S seconds old will do."""
    try:
        max_age = min(SNAPSHOT_MAX_AGE_ASKED, max(0.0, float(request.args.get("max_age", 0))))  # NaN -> 0
    except ValueError:
        max_age = 0.0
    shared = current_app.extensions.setdefault("dashboard_shared_snapshot", _SharedSnapshot())
    return Response(shared.json(g.user.as_dict(), max_age), mimetype="application/json")


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
    return jsonify(entries=snapshot.audit(ctx(), count), refusals=snapshot.refusals(ctx(), count))


@bp.get("/api/alerts")
@reader
def api_alerts() -> Response:
    """Alerts in force now (a precinct's PIN entry locked, and until when)."""
    return jsonify(alerts=snapshot.alerts(ctx()))
